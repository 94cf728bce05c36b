// What test/db/postgres-setup.ts provides to the "postgres" project: `inject("postgresUrl")`.
declare module "vitest" {
  export interface ProvidedContext {
    /** postgres://… of a throwaway database on 127.0.0.1, shared by every test of the run. */
    postgresUrl: string;
  }
}

export {};
