import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { updateLogContract } from "./update-log.js";

updateLogContract("sqlite", async () => openSqliteStore(":memory:"));
