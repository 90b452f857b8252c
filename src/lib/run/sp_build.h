/* sp_build: a whole project's datafiles, received at once (the SDK's
 * `tinybird build` / `deploy`: POST /v1/build, /v1/deploy), validated as
 * `sinkpipe check` validates a folder, compared with the running project,
 * checked against the data the engine holds (the schema rules below) and
 * swapped into the project folder in one step (docs/serve.md, "The
 * Tinybird SDK and CLI").
 *
 *   b = sp_build_new(dir, files, cur)   parse + check_all + diff (no I/O
 *                                       on the folder)
 *   sp_build_plan(b, engine)            schema rules against the tables
 *   sp_build_apply(b, engine)           drop the empty tables planned,
 *                                       then swap the files in
 *
 * Schema rules (a datasource of the build whose table exists):
 *   - same columns (names and types, in order) and same ENGINE* keys as
 *     the table and the running definition: kept, rows and all;
 *   - anything else (a column added, removed, renamed, retyped; a
 *     changed engine or sorting key) on a table holding no row: the table
 *     is dropped and created anew;
 *   - on a table holding rows: refused, naming the file and the row
 *     count.  sinkpipe never drops data and does not run FORWARD_QUERY
 *     migrations.
 *   - a datasource left out of the build loses its definition; its table
 *     and rows stay in the database (built again with the same columns,
 *     it has them back).
 *
 * The swap is rename-based and rolls forward: the new files are written (and
 * synced)
 * under <dir>/.sinkpipe/build.new with a manifest (renamed into place
 * last: the commit point); the old datafiles are moved to
 * <dir>/.sinkpipe/build.old, the new ones into the folder, then both
 * folders are removed.  sp_build_recover (at serve's start) finishes a
 * swap a crash interrupted, or removes an uncommitted one. */
#ifndef SP_BUILD_H
#define SP_BUILD_H

#include <stddef.h>

#include "sinkpipe.h"
#include "sp_engine.h"

typedef struct sp_build sp_build;

typedef struct sp_build_file {
    const char *name; /* "events.datasource", "top.pipe", "s3.connection" */
    const char *data;
    size_t len;
} sp_build_file;

typedef struct sp_build_issue {
    const char *filename; /* "events.datasource", "" when no file is to blame */
    const char *error;    /* one line: `datasources/events.datasource:3: KEY: reason` */
} sp_build_issue;

enum { SP_BUILD_CREATED, SP_BUILD_CHANGED, SP_BUILD_DELETED };

/* sp_build_new: the project `files` (copied) would make of folder `dir`
 * (its .env files and secrets apply), validated as `sinkpipe check` does
 * and compared with `cur` (the running project; NULL: none).  Returns 0
 * with *out set (also when the definitions fail: see sp_build_nissues), or
 * an error (out of memory).  Free with sp_build_free. */
int sp_build_new(const char *dir, const sp_build_file *files, size_t n, const sp_project *cur,
                 sp_build **out, sp_error *err);
void sp_build_free(sp_build *b);

/* what is wrong with the build, per file (0: nothing) */
size_t sp_build_nissues(const sp_build *b);
sp_build_issue sp_build_issue_at(const sp_build *b, size_t i);

/* 1 when every definition equals the running one (nothing to apply) */
int sp_build_unchanged(const sp_build *b);
/* names of kind (0 connections, 1 datasources, 2 pipes) that the build
 * creates, changes or deletes (SP_BUILD_*): n names in *names */
size_t sp_build_names(const sp_build *b, int kind, int what, const char *const **names);

/* sp_build_plan: the schema rules against engine e (the caller holds it
 * alone): refusals become issues (SP_EDEF).  A datasource new to the
 * engine gets its (empty) table now. */
int sp_build_plan(sp_build *b, sp_engine *e, sp_error *err);
/* sp_build_apply: drop the tables planned (each only if still empty),
 * then swap the files into the folder.  On failure the folder is as it
 * was (a table found holding rows at the last moment is an issue). */
int sp_build_apply(sp_build *b, sp_engine *e, sp_error *err);

/* sp_build_recover: finish (committed) or remove (not committed) a swap
 * that a crash interrupted in `dir`; nothing to do is 0. */
int sp_build_recover(const char *dir, sp_error *err);

#endif
