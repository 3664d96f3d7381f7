// Builds guarantee/static/build/ from the npm packages: the stylesheet (Sass, system font),
// GOV.UK Frontend's JavaScript and its images. Run by `make` after `npm ci`.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const frontend = join(root, "node_modules", "govuk-frontend", "dist");
const out = join(root, "guarantee", "static", "build");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const css = sass.compile(join(root, "assets", "app.scss"), {
  loadPaths: [frontend],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), css.css);
cpSync(join(frontend, "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(frontend, "govuk", "assets", "images"), join(out, "assets", "images"), { recursive: true });
cpSync(join(frontend, "govuk", "assets", "manifest.json"), join(out, "assets", "manifest.json"));
console.log(`built ${out}`);
