// Build the site's CSS and copy GOV.UK Frontend's script and images into static/dist.
// Run by `make assets`; output is not committed.
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");
const out = join(root, "static", "dist");
mkdirSync(join(out, "assets", "images"), { recursive: true });

const result = sass.compile(join(root, "frontend", "portal.scss"), {
  loadPaths: [join(root, "node_modules", "govuk-frontend", "dist")],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
if (result.css.includes("GDS Transport")) {
  throw new Error("GDS Transport found in the compiled CSS: the partnership must not use it.");
}
// The footer's copyright logo is the royal crest, which is not ours to use: drop the rules that draw it (and
// the @supports block left empty), so the stylesheet refers to no image that static/dist does not hold.
// Otherwise collectstatic's manifest storage refuses the stylesheet in production.
const css = result.css
  .replace(/[^{}]*\{[^{}]*govuk-crest\.svg[^{}]*\}/g, "")
  .replace(/@supports[^{}]*\{\}/g, "");
if (css.includes("govuk-crest")) {
  throw new Error("The compiled CSS still refers to the GOV.UK crest.");
}
writeFileSync(join(out, "portal.css"), css);
cpSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
// Only the neutral favicon images: the crown and GOV.UK marks are not ours to use.
for (const name of ["favicon.ico", "favicon.svg"]) {
  cpSync(join(govuk, "assets", "images", name), join(out, "assets", "images", name));
}
console.log(`built static/dist/portal.css (${css.length} bytes)`);
