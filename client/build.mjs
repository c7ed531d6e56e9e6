// Bundle the TypeScript sources into the Python package's static folder.
// Output is build output: gitignored, made by `make` and by the wheel build.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "..", "src", "cobrowse", "web", "static", "dist");

const common = {
  bundle: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  minify: true,
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
};

// Pages the browser tests serve (a React form): test fixtures, not shipped.
const testPagesOut = path.join(here, "..", "tests", "e2e", "pages", "dist");

await Promise.all([
  build({ ...common, entryPoints: [path.join(here, "src/customer/index.ts")], outfile: path.join(outdir, "cobrowse.js") }),
  build({ ...common, entryPoints: [path.join(here, "src/agent/index.ts")], outfile: path.join(outdir, "agent.js") }),
  build({ ...common, entryPoints: [path.join(here, "src/admin/index.ts")], outfile: path.join(outdir, "admin.js") }),
  build({
    ...common,
    entryPoints: [path.join(here, "test-pages/react-form.tsx")],
    outfile: path.join(testPagesOut, "react-form.js"),
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
  }),
]);
