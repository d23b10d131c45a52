/* owner.h: which libvirt networks and pools podform created (spec section 4). libvirt 9.0 has
 * no metadata API for them, so a state file under /var/lib/podform (PODFORM_STATE_DIR) records
 * kind, name and UUID; an object counts as podform's only while both match, so a network
 * recreated by hand under the same name is not pruned. Domains carry their own metadata. */
#pragma once
#include <stdbool.h>

#include "engine/obj.h"

typedef struct pf_owner pf_owner;

/* pf_owner_open: `dir` NULL keeps the record in memory only (the test driver's host lives
 * only as long as the process, so must its record). */
pf_owner *pf_owner_open(const char *dir, const char *uri, char **err);
void pf_owner_free(pf_owner *o);
/* has, set and drop may be called from several threads at once (apply's workers). */
bool pf_owner_has(const pf_owner *o, pf_rkind kind, const char *name, const char *uuid);
void pf_owner_set(pf_owner *o, pf_rkind kind, const char *name, const char *uuid);
void pf_owner_drop(pf_owner *o, pf_rkind kind, const char *name);
/* pf_owner_save: writes the file atomically (temporary file, fsync, rename) when changed, its
 * lines sorted (whatever order the workers recorded them in). */
int pf_owner_save(pf_owner *o, char **err);
