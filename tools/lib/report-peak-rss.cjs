// Preloaded by `npm run bench` (node --require): writes the process's peak resident set size, in KiB, to
// $MLOPS_BENCH_RSS_FILE when the process exits. Does nothing when the variable is unset.
"use strict";
const file = process.env.MLOPS_BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    require("node:fs").writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
