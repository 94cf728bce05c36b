import { inject } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import "../db/types.js";
import { updateLogContract } from "./update-log.js";

const url = inject("postgresUrl");
updateLogContract("postgres", () => openPostgresStore(url, { max: 2 }));
