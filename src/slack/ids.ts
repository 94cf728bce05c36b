import * as z from "zod";

/** Slack IDs as payloads carry them; anything else in their place is refused before it is used. */
export const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/);
export const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/);
