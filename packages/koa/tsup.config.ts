import { packageConfig } from "../../tsup.config.base";

// `./admin` is its own entry: `import { detour } from "@detour/koa"` never loads the console.
export default packageConfig({ entry: { index: "src/index.ts", admin: "src/admin.ts" } });
