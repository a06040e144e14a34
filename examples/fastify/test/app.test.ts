import { exampleSuite } from "../../shared/testing/suite.js";
import { buildApp } from "../src/app.js";

exampleSuite("fastify", async (store) => {
  const app = await buildApp({ store });
  await app.ready();
  return { target: app.server, detour: app.detour, close: () => app.close() };
});
