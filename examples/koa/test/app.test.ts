import { exampleSuite } from "../../shared/testing/suite.js";
import { buildApp } from "../src/app.js";

exampleSuite("koa", async (store) => {
  const app = buildApp({ store });
  return { target: app.callback(), detour: app.detour, close: () => app.detour.close() };
});
