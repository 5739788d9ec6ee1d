// Compile Solidity standard JSON input (stdin) with the npm `solc` package.
// Usage: node solc_compile.js <path-to-node_modules/solc>  < input.json  > output.json
'use strict';
const solcPath = process.argv[2];
if (!solcPath) {
  process.stderr.write('usage: node solc_compile.js <path-to-solc-package>\n');
  process.exit(2);
}
const solc = require(solcPath);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const input = Buffer.concat(chunks).toString('utf8');
  const output = solc.compile(input);
  process.stdout.write(JSON.stringify({ version: solc.version(), output: JSON.parse(output) }));
});
