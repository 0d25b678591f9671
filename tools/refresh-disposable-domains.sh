#!/usr/bin/env bash
# Re-vendors the disposable email domain list that the fraud feature embeds, from the npm package
# `disposable-email-domains` (MIT): its exact domains (index.json) and the domains whose every subdomain is
# disposable (wildcard.json) go into one file, one lower-case ASCII (punycode) domain a line, sorted, because
# the application already matches every parent domain. The licence notice is rewritten beside it.
# Usage: tools/refresh-disposable-domains.sh [version]   (default: the latest published version)
# Then review the diff, run ./test.sh and commit both files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
package="disposable-email-domains@${1:-latest}"
data=src/Apptork.Root/Features/Fraud/Data
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tarball="$(cd "$work" && npm pack --silent "$package")"
tar -xzf "$work/$tarball" -C "$work"

node - "$work/package" "$data" <<'NODE'
const fs = require("fs");
const { domainToASCII } = require("url");
const [packageDir, dataDir] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(`${packageDir}/${name}`, "utf8"));
const { name, version, license, repository } = read("package.json");

const domains = new Set();
for (const entry of [...read("index.json"), ...read("wildcard.json")]) {
  const ascii = domainToASCII(entry.trim().toLowerCase().replace(/\.$/, ""));
  if (!ascii) {
    throw new Error(`not a domain name: ${entry}`);
  }
  domains.add(ascii);
}
const sorted = [...domains].sort();
const header = `# ${name} ${version} (${license}, ${repository}): see disposable-email-domains.LICENSE.txt. Refresh with tools/refresh-disposable-domains.sh.`;
fs.writeFileSync(`${dataDir}/disposable-email-domains.txt`, `${header}\n${sorted.join("\n")}\n`);

const mitText = `MIT License

Copyright (c) the ${name} contributors (${repository})

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;
const readme = fs.readFileSync(`${packageDir}/Readme.md`, "utf8");
const licenseSection = readme.slice(readme.indexOf("# License"));
fs.writeFileSync(`${dataDir}/disposable-email-domains.LICENSE.txt`,
  `disposable-email-domains.txt is derived from the npm package ${name} ${version} (${repository}),\n` +
  `published under the ${license} licence as its package.json declares. The package ships no separate\n` +
  `licence file; the licence section of its Readme.md follows, as published, then the MIT licence text\n` +
  `(SPDX "MIT") that its declaration refers to.\n\n${licenseSection}\n${mitText}`);
console.log(`${name} ${version}: ${sorted.length} domains written to ${dataDir}/disposable-email-domains.txt`);
NODE
