// Evaluates a PAC file the way a browser does: the file runs in a context holding the standard PAC helper
// functions, then FindProxyForURL is asked about each name. Usage: node harness.js FILE.pac CASES.json
// CASES.json is {"names": [...], "resolve": {"name": "ipv4", ...}}; prints {"name": "DIRECT" | "PROXY ..."}.
"use strict";
const fs = require("fs");
const vm = require("vm");

const [pacPath, casesPath] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, "utf8"));

function ipv4(s) {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) { return null; }
  return ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
}

const context = {
  dnsDomainIs: (host, domain) => host.length >= domain.length && host.substring(host.length - domain.length) === domain,
  shExpMatch: (str, pat) => new RegExp("^" + pat.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$").test(str),
  isPlainHostName: (host) => host.indexOf(".") < 0,
  localHostOrDomainIs: (host, hostdom) => host === hostdom || (host.indexOf(".") < 0 && hostdom.startsWith(host + ".")),
  isResolvable: (host) => Object.prototype.hasOwnProperty.call(cases.resolve, host),
  dnsResolve: (host) => (Object.prototype.hasOwnProperty.call(cases.resolve, host) ? cases.resolve[host] : null),
  isInNet: (ip, pattern, mask) => {
    const a = ipv4(ip), p = ipv4(pattern), m = ipv4(mask);
    if (a === null || p === null || m === null) { return false; }
    return ((a & m) >>> 0) === ((p & m) >>> 0);
  },
  myIpAddress: () => "127.0.0.1",
  dnsDomainLevels: (host) => host.split(".").length - 1,
  weekdayRange: () => true, dateRange: () => true, timeRange: () => true,
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(pacPath, "utf8"), context, { filename: pacPath });
const out = {};
for (const name of cases.names) {
  out[name] = context.FindProxyForURL("https://" + name + "/", name);
}
process.stdout.write(JSON.stringify(out));
