import { exampleSuite } from "../../shared/testing/suite.js";
import { buildApp } from "../src/app.js";

exampleSuite("express", async (store) => {
  const app = buildApp({ store });
  return { target: app, detour: app.locals.detour, close: () => app.locals.detour.close() };
});
