"""The school's booking pages, under /bookings/ (joined into portal/urls.py before Wagtail's catch-all)."""

from django.urls import path

from .views import (
    approvals,
    basket,
    cancellations,
    checkout,
    detail,
    personal_data,
    subscriptions,
    substitutions,
    waiting_list,
)

app_name = "bookings"

urlpatterns = [
    # bookings-core: basket, checkout, booking detail, approvals
    path("basket/", basket.basket_view, name="basket"),
    path("basket/add/<int:service_id>/", basket.add_to_basket, name="basket_add"),
    path("basket/items/<int:item_id>/remove/", basket.remove_from_basket, name="basket_remove"),
    path("checkout/", checkout.start, name="checkout_start"),
    path("checkout/<str:reference>/", checkout.review, name="checkout"),
    path("checkout/<str:reference>/done/", checkout.confirmation, name="confirmation"),
    path("checkout/<str:reference>/abandon/", checkout.abandon, name="checkout_abandon"),
    path("approvals/", approvals.approvals_list, name="approvals"),
    path("schools/<int:urn>/booking-rules/", approvals.approval_settings, name="approval_settings"),
    # bookings-flows: waiting lists, cancellations, subscriptions, your data (before "<reference>/")
    path("dates/<int:course_date_id>/waiting-list/", waiting_list.join, name="waiting_list_join"),
    path("waiting-list/<int:entry_id>/", waiting_list.offer, name="waiting_list_offer"),
    path("waiting-list/<int:entry_id>/leave/", waiting_list.withdraw, name="waiting_list_withdraw"),
    path("schools/<int:urn>/subscriptions/", subscriptions.school_subscriptions, name="subscriptions"),
    path(
        "schools/<int:urn>/subscriptions/<int:subscription_id>/renewal/",
        subscriptions.set_renewal,
        name="subscription_renewal",
    ),
    path("your-data/", personal_data.your_data, name="your_data"),
    path("your-data/download/", personal_data.download_your_data, name="your_data_download"),
    path("<str:reference>/lines/<int:line_id>/cancel/", cancellations.cancel_line, name="cancel_line"),
    path("<str:reference>/lines/<int:line_id>/substitute/", substitutions.substitute, name="substitute"),
    path("<str:reference>/", detail.booking_detail, name="detail"),
    path("<str:reference>/approve/", approvals.approve, name="approve"),
    path("<str:reference>/decline/", approvals.decline, name="decline"),
]
