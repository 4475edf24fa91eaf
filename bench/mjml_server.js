// A long-running MJML for Node renderer for bench/render.py: one JSON request per line on
// stdin ({"mjml": "..."}), one JSON answer per line on stdout ({"ms": render time, "bytes": n}).
// The time is measured inside node around the mjml2html call alone.
const path = require("path");
const readline = require("readline");
const mjml2html = require(path.join(__dirname, ".node", "node_modules", "mjml"));

const options = { validationLevel: "skip", keepComments: false, fonts: {} };
const lines = readline.createInterface({ input: process.stdin, terminal: false });

lines.on("line", async (line) => {
  const request = JSON.parse(line);
  const start = process.hrtime.bigint();
  let answer;
  try {
    const result = await mjml2html(request.mjml, options);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    answer = { ms, bytes: Buffer.byteLength(result.html), errors: (result.errors || []).length };
  } catch (error) {
    answer = { error: String(error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
