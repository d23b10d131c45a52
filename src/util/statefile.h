/* statefile.h: podform's small record files under /var/lib/podform (PODFORM_STATE_DIR): one
 * run at a time holds a file's lock, and a record is replaced atomically (temporary file, fsync,
 * rename), so a crash leaves the old record or the new one, never half of one. */
#pragma once
#include <stdio.h>

/* pf_lock_path: creates the directory of `path` if missing, then opens and locks `path`
 * (exclusive, waiting for another run to finish). The descriptor, or -1 with errno set. */
int pf_lock_path(const char *path);

/* pf_record_begin: a temporary file next to `path` for the new record (its directory created
 * if missing), or NULL with errno set. Write to it, then pf_record_commit. */
FILE *pf_record_begin(const char *path);
/* pf_record_commit: flushes, syncs and closes f, and renames it over `path`; -1 with errno set
 * (the temporary file removed) when any step fails. */
int pf_record_commit(FILE *f, const char *path);
