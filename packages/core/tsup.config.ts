import { packageConfig } from "../../tsup.config.base";

// Three entry points over one copy of the code: shared chunks (also for CJS), so
// `instanceof Detour` and the error classes hold whichever entry loaded them.
export default packageConfig({
  entry: { index: "src/index.ts", adapter: "src/adapter/index.ts", store: "src/store.ts" },
  splitting: true,
});
