import { describe, expect, it } from "vitest";
import { doctorText } from "../../src/doctor/text.js";
import { healthzUrl } from "../../src/metrics/http.js";
import { parseTarget } from "../../src/relay/fingerprint.js";
import { fail, ok, warn } from "../../src/util/check.js";

describe("doctor's checklist text", () => {
  it("one line per check, the fix under a failure, and a summary that says what to do", () => {
    const t = doctorText([
      ok("config", "parse", "mailq.yaml: 1 relay(s)"),
      fail("archive", "writable", "/etc/x is not writable: EROFS", "set archive.path"),
      warn("r1", "gate", "no forced command"),
    ]);
    expect(t).toBe(
      [
        "ok    config parse      mailq.yaml: 1 relay(s)",
        "FAIL  archive writable  /etc/x is not writable: EROFS",
        "                        fix: set archive.path",
        "warn  r1 gate           no forced command",
        "",
        "1 check(s) failed, 1 warning(s): fix them and run mailq-bot doctor again.",
        "",
      ].join("\n"),
    );
    expect(doctorText([ok("a", "b", "c")])).toMatch(/All checks passed\.\n$/);
  });
});

describe("fingerprint's HOST[:PORT]", () => {
  it.each([
    ["mx1.example.net", { host: "mx1.example.net", port: 22 }],
    ["mx1.example.net:2222", { host: "mx1.example.net", port: 2222 }],
    ["10.0.0.5:22", { host: "10.0.0.5", port: 22 }],
    ["[2001:db8::1]:2222", { host: "2001:db8::1", port: 2222 }],
    ["2001:db8::1", { host: "2001:db8::1", port: 22 }],
  ])("reads %s", (s, want) => expect(parseTarget(s)).toEqual(want));
  it.each(["", "a b", "host:0", "host:99999", "host;id", "-oProxyCommand=x"])("refuses %j", (s) =>
    expect(parseTarget(s)).toBeUndefined(),
  );
});

describe("where /healthz is", () => {
  it("HTTP mode: PORT (3000); Socket Mode: METRICS_HOST:METRICS_PORT (127.0.0.1:9464)", () => {
    expect(healthzUrl({})).toBe("http://127.0.0.1:3000/healthz");
    expect(healthzUrl({ PORT: "8080" })).toBe("http://127.0.0.1:8080/healthz");
    expect(healthzUrl({ SLACK_APP_TOKEN: "xapp-1" })).toBe("http://127.0.0.1:9464/healthz");
    expect(healthzUrl({ SLACK_APP_TOKEN: "xapp-1", METRICS_PORT: "9999", METRICS_HOST: "0.0.0.0" })).toBe(
      "http://127.0.0.1:9999/healthz",
    );
  });
});
