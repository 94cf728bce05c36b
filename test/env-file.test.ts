import { describe, expect, it } from "vitest";
import { effectiveEnv } from "../src/env-file.js";

const file = (text: string | undefined) => (path: string) => (path === "/app/.env" ? text : undefined);

describe("the environment with ./.env", () => {
  it("reads .env under the process environment, which wins", () => {
    const r = effectiveEnv(
      { SLACK_BOT_TOKEN: "xoxb-from-env", PATH: "/bin" },
      "/app",
      file("# comment\nSLACK_BOT_TOKEN=xoxb-from-file\nSLACK_SIGNING_SECRET='s3cret value'\nPORT=3001\n"),
    );
    expect(r.file).toBe("/app/.env");
    expect(r.env).toEqual({
      SLACK_BOT_TOKEN: "xoxb-from-env",
      SLACK_SIGNING_SECRET: "s3cret value",
      PORT: "3001",
      PATH: "/bin",
    });
  });

  it("NAME= means not set, in the file and in the environment: the file's value then applies", () => {
    const r = effectiveEnv(
      { SLACK_APP_TOKEN: "", PORT: "" },
      "/app",
      file("SLACK_APP_TOKEN=\nMETRICS_PORT=\nPORT=3002\n"),
    );
    expect(r.env).toEqual({ PORT: "3002" });
  });

  it("without a .env, only the process environment (empty values dropped)", () => {
    expect(effectiveEnv({ A: "1", B: "" }, "/elsewhere", file("A=2"))).toEqual({ env: { A: "1" } });
  });
});
