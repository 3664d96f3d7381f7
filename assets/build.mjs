// Builds guarantee/static/build/ from the npm packages: the stylesheet (Sass, system font), the
// JavaScript of GOV.UK Frontend and of MOJ Frontend, and the images the stylesheet points to.
// Run by `make` after `npm ci`.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const frontend = join(modules, "govuk-frontend", "dist");
const moj = join(modules, "@ministryofjustice", "frontend", "moj");
const out = join(root, "guarantee", "static", "build");
const assetsUrl = "/static/build/assets/";

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// MOJ Frontend's Sass loads GOV.UK Frontend as "node_modules/govuk-frontend/dist/govuk/base",
// hence the project root among the load paths.
const css = sass.compile(join(root, "assets", "app.scss"), {
  loadPaths: [frontend, modules, root],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), css.css);
cpSync(join(frontend, "govuk", "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
cpSync(join(moj, "moj-frontend.min.js"), join(out, "moj-frontend.min.js"));
cpSync(join(frontend, "govuk", "assets", "images"), join(out, "assets", "images"), { recursive: true });
cpSync(join(frontend, "govuk", "assets", "manifest.json"), join(out, "assets", "manifest.json"));

// MOJ's images: only those the stylesheet uses (its icons), and every one of them.
const images = join(out, "assets", "images");
const wanted = [...css.css.matchAll(/url\("?([^")]+)"?\)/g)].map((m) => m[1]).filter((u) => u.startsWith(assetsUrl));
for (const url of new Set(wanted)) {
  const name = url.slice(assetsUrl.length + "images/".length);
  if (existsSync(join(images, name))) continue;
  const source = join(moj, "assets", "images", name);
  if (!existsSync(source)) throw new Error(`app.css points to ${url}, which neither GOV.UK nor MOJ Frontend has`);
  cpSync(source, join(images, name));
}
console.log(`built ${out}`);
