// Writes the JSON Schema of `status --json` from its zod types: npm run schema.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { statusJsonSchema } from "../src/json/status-document-schema.js";

const file = join(import.meta.dirname, "../src/json/status-document.schema.json");
writeFileSync(file, statusJsonSchema());
console.log(`wrote ${file}`);
