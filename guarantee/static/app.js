// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();
