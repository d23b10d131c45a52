#include "config.h"
#include "records/owner.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/statefile.h"
#include "util/hash.h"
#include "util/xalloc.h"

typedef struct entry { pf_rkind kind; char *name, *uuid; } entry;

struct pf_owner {
        char *path;             /* NULL: memory only */
        int lock_fd;            /* held for the whole run; -1: none */
        entry *v;
        size_t n;
        bool dirty;
        pthread_mutex_t lock;   /* apply's workers record what they create at once */
};

static entry *find(const pf_owner *o, pf_rkind kind, const char *name) {
        for (size_t i = 0; i < o->n; i++)
                if (o->v[i].kind == kind && !strcmp(o->v[i].name, name))
                        return &o->v[i];
        return NULL;
}

static void add(pf_owner *o, pf_rkind kind, const char *name, const char *uuid) {
        o->v = pf_xreallocarray(o->v, o->n + 1, sizeof(*o->v));
        o->v[o->n++] = (entry) { kind, pf_xstrdup(name), pf_xstrdup(uuid) };
}

/* One file per connection URI (qemu:///system and qemu:///session own different things): every
 * byte but [a-z0-9-] is written as _XX, so two URIs never share a file. A name that would make
 * "libvirt-NAME.owned.lock" pass NAME_MAX (255: a qemu+ssh URI with its options) keeps its first
 * 120 bytes and ends with the hash of the whole URI instead; every name that fits is the one
 * podform always used, so existing records still open. */
static char *record_name(const char *uri) {
        enum { KEEP = 120, MAX = 255 - sizeof("libvirt-.owned.lock") + 1 };
        char *name = pf_xmalloc(3 * strlen(uri) + 1);
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *) uri; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')
                        name[n++] = (char) *p;
                else
                        n += (size_t) snprintf(name + n, 4, "_%02x", *p);
        }
        name[n] = '\0';
        if (n > MAX) {
                uint64_t h = pf_fnv1a(PF_FNV_OFFSET, uri, strlen(uri));
                snprintf(name + KEEP, n + 1 - KEEP, "_%016llx", (unsigned long long) h);
        }
        return name;
}

pf_owner *pf_owner_open(const char *dir, const char *uri, char **err) {
        pf_owner *o = pf_xcalloc(1, sizeof(*o));
        o->lock_fd = -1;
        pthread_mutex_init(&o->lock, NULL);
        if (!dir)
                return o;
        _cleanup_free_ char *name = record_name(uri);
        o->path = pf_xasprintf("%s/libvirt-%s.owned", dir, name);
        /* one podform run per host at a time (watch and a hand-run apply): the lock is held
         * until pf_owner_free, so neither loses the other's records */
        _cleanup_free_ char *lock = pf_xasprintf("%s.lock", o->path);
        if ((o->lock_fd = pf_lock_path(lock)) < 0) {
                *err = pf_xasprintf("cannot lock podform's ownership record %s: %s", lock, strerror(errno));
                pf_owner_free(o);
                return NULL;
        }
        FILE *f = fopen(o->path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return o;
                *err = pf_xasprintf("cannot read podform's ownership record %s: %s", o->path, strerror(errno));
                pf_owner_free(o);
                return NULL;
        }
        _cleanup_free_ char *line = NULL;       /* any length: a volume's name has no bound here */
        size_t cap = 0;
        unsigned lineno = 0;
        while (getline(&line, &cap, f) >= 0) {
                lineno++;
                char *save, *k = strtok_r(line, "\t\n", &save), *nm = strtok_r(NULL, "\t\n", &save),
                            *uuid = strtok_r(NULL, "\t\n", &save);
                if (!k || k[0] == '#')
                        continue;
                pf_rkind kind = pf_rkind_lookup(k);
                if (kind == _PF_R_MAX || !nm || !uuid) {
                        *err = pf_xasprintf("%s:%u: not a line podform wrote (KIND<TAB>NAME<TAB>UUID); fix or remove it", o->path, lineno);
                        fclose(f);
                        pf_owner_free(o);
                        return NULL;
                }
                add(o, kind, nm, uuid);
        }
        fclose(f);
        return o;
}

void pf_owner_free(pf_owner *o) {
        if (!o)
                return;
        for (size_t i = 0; i < o->n; i++) {
                free(o->v[i].name);
                free(o->v[i].uuid);
        }
        free(o->v);
        free(o->path);
        if (o->lock_fd >= 0)
                close(o->lock_fd);
        pthread_mutex_destroy(&o->lock);
        free(o);
}

bool pf_owner_has(const pf_owner *o, pf_rkind kind, const char *name, const char *uuid) {
        pthread_mutex_t *lock = &((pf_owner *) o)->lock;
        pthread_mutex_lock(lock);
        const entry *e = find(o, kind, name);
        bool has = e && uuid && !strcmp(e->uuid, uuid);
        pthread_mutex_unlock(lock);
        return has;
}

static void set_locked(pf_owner *o, pf_rkind kind, const char *name, const char *uuid) {
        entry *e = find(o, kind, name);
        if (e && !strcmp(e->uuid, uuid))
                return;
        if (e) {
                free(e->uuid);
                e->uuid = pf_xstrdup(uuid);
        } else
                add(o, kind, name, uuid);
        o->dirty = true;
}

void pf_owner_set(pf_owner *o, pf_rkind kind, const char *name, const char *uuid) {
        pthread_mutex_lock(&o->lock);
        set_locked(o, kind, name, uuid);
        pthread_mutex_unlock(&o->lock);
}

void pf_owner_drop(pf_owner *o, pf_rkind kind, const char *name) {
        pthread_mutex_lock(&o->lock);
        entry *e = find(o, kind, name);
        if (e) {
                free(e->name);
                free(e->uuid);
                *e = o->v[--o->n];
                o->dirty = true;
        }
        pthread_mutex_unlock(&o->lock);
}

static int cmp_entry(const void *a, const void *b) {
        const entry *x = a, *y = b;
        return x->kind != y->kind ? (x->kind < y->kind ? -1 : 1) : strcmp(x->name, y->name);
}

int pf_owner_save(pf_owner *o, char **err) {
        if (!o->path || !o->dirty)
                return 0;
        if (o->n)
                qsort(o->v, o->n, sizeof(*o->v), cmp_entry);
        FILE *f = pf_record_begin(o->path);
        if (!f) {
                *err = pf_xasprintf("cannot write podform's ownership record %s: %s", o->path, strerror(errno));
                return -1;
        }
        fputs("# podform: libvirt objects podform created (kind, name, uuid or volume key). Written by podform.\n", f);
        for (size_t i = 0; i < o->n; i++)
                fprintf(f, "%s\t%s\t%s\n", pf_rkind_name(o->v[i].kind), o->v[i].name, o->v[i].uuid);
        if (pf_record_commit(f, o->path) < 0) {
                *err = pf_xasprintf("cannot write podform's ownership record %s: %s", o->path, strerror(errno));
                return -1;
        }
        o->dirty = false;
        return 0;
}
