// Renders MOJ Frontend's and GOV.UK Frontend's own Nunjucks templates, for the tests that compare
// our Jinja ports (guarantee/templates/moj/) with them. Reads a JSON list of
// {"source": "<Nunjucks>", "params": {...}} on stdin; writes the JSON list of their HTML.
// MOJ's date filters are installed as its README says; run with TZ=Europe/London.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const nunjucks = require("nunjucks");
const mojFilters = require("@ministryofjustice/frontend/moj/filters/all.js");

const env = new nunjucks.Environment(
  new nunjucks.FileSystemLoader([
    join(root, "node_modules", "govuk-frontend", "dist"),
    join(root, "node_modules", "@ministryofjustice", "frontend"),
  ]),
  { autoescape: true },
);
for (const [name, filter] of Object.entries(mojFilters())) env.addFilter(name, filter);

const cases = JSON.parse(readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(({ source, params }) => env.renderString(source, { params }))));
