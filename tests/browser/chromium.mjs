// Which Chromium the browser tests drive, and with which flags.
//
// A system Chromium wins: $CHROMIUM, else `chromium` / `chromium-browser` on PATH, else
// /usr/bin/chromium. Without one, the headless shell that the pinned npm package
// @sparticuz/chromium carries (installed by `npm ci`, so no root and no apt) is unpacked once
// into node_modules/.cache/sparticuz-chromium-<version>/ and reused from there.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SYSTEM_NAMES = ["chromium", "chromium-browser"];
const SYSTEM_FALLBACK = "/usr/bin/chromium";
// What every launch gets: headless, quiet, nothing fetched in the background.
const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
// Flags of `chromium.args` (meant for AWS Lambda) that we must not pass:
// --single-process makes the browser exit at the first context.close(); the others switch off
// the same-origin policy and site isolation, which the GraphiQL test relies on to mean anything.
const SPARTICUZ_DROPPED = [
  "--single-process",
  "--disable-web-security",
  "--allow-running-insecure-content",
  "--disable-site-isolation-trials",
];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The system Chromium, or null. A $CHROMIUM that is not executable is an error, not a fallback. */
export function systemChromium(env = process.env) {
  if (env.CHROMIUM) {
    if (!isExecutable(env.CHROMIUM)) throw new Error(`CHROMIUM=${env.CHROMIUM} is not an executable file`);
    return env.CHROMIUM;
  }
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const name of SYSTEM_NAMES) {
      if (isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  return isExecutable(SYSTEM_FALLBACK) ? SYSTEM_FALLBACK : null;
}

/** The installed @sparticuz/chromium package: its directory and version. */
function sparticuzPackage() {
  let entry;
  try {
    entry = fileURLToPath(import.meta.resolve("@sparticuz/chromium"));
  } catch (err) {
    throw new Error("no Chromium: none on PATH and @sparticuz/chromium is not installed (run `npm ci`)", { cause: err });
  }
  let dir = dirname(entry);
  while (!existsSync(join(dir, "package.json")) || !dir.endsWith(join("@sparticuz", "chromium"))) {
    if (dirname(dir) === dir) throw new Error(`cannot find the package directory of ${entry}`);
    dir = dirname(dir);
  }
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return { dir, version, nodeModules: dirname(dirname(dir)) };
}

/**
 * Unpack the package's Chromium (~190 MB: the binary, its fonts and SwiftShader) once.
 *
 * The package unpacks into os.tmpdir() and afterwards trusts whatever `chromium` it finds there,
 * whatever its version, half-written or not. So it unpacks into a private staging directory
 * (TMPDIR pointed at it for the call), which is then renamed into a cache directory named after
 * the version: a rename is atomic, so a concurrent run either sees the whole cache or none of it
 * (and the loser of a race throws its copy away), and an upgrade never reuses an old binary.
 */
async function unpackSparticuz() {
  const { version, nodeModules } = sparticuzPackage();
  const cache = join(nodeModules, ".cache", `sparticuz-chromium-${version}`);
  const binary = join(cache, "chromium");
  if (isExecutable(binary)) return { binary, cache };
  const staging = `${cache}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const { default: chromium } = await import("@sparticuz/chromium");
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await chromium.executablePath();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  try {
    renameSync(staging, cache);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!isExecutable(binary)) throw err; // not a lost race: a real failure
  }
  return { binary, cache };
}

/**
 * Options for playwright's `chromium.launch()`, and where the browser came from.
 * @returns {Promise<{source: string, options: import("playwright-core").LaunchOptions}>}
 */
export async function chromiumLaunchOptions(env = process.env) {
  const system = systemChromium(env);
  if (system) {
    return {
      source: system,
      options: { executablePath: system, headless: true, args: ["--headless=new", ...COMMON_ARGS] },
    };
  }
  const { binary } = await unpackSparticuz();
  const { default: chromium } = await import("@sparticuz/chromium");
  const args = chromium.args.filter((arg) => !SPARTICUZ_DROPPED.includes(arg));
  return {
    source: `${binary} (@sparticuz/chromium)`,
    options: { executablePath: binary, headless: true, args: [...args, ...COMMON_ARGS.filter((a) => !args.includes(a))] },
  };
}

// `node tests/browser/chromium.mjs`: resolve (and unpack, if need be) and print the browser.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { source } = await chromiumLaunchOptions();
  console.log(source);
}
