/* ports.c: the record of enslaved ports (ports.h). */
#include "config.h"
#include "records/ports.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/statefile.h"
#include "util/xalloc.h"

typedef struct port_rec { char *bridge, *port; } port_rec;

struct pf_ports {
        char *path;                     /* NULL: memory only */
        int lock_fd;                    /* -1: not locked (memory only, or a plan) */
        port_rec *v;
        size_t n;
        bool dirty;
};

bool pf_ports_has(const pf_ports *p, const char *bridge, const char *port) {
        for (size_t i = 0; i < p->n; i++)
                if (!strcmp(p->v[i].bridge, bridge) && !strcmp(p->v[i].port, port))
                        return true;
        return false;
}

void pf_ports_add(pf_ports *p, const char *bridge, const char *port) {
        if (pf_ports_has(p, bridge, port))
                return;
        p->v = pf_xreallocarray(p->v, p->n + 1, sizeof(*p->v));
        p->v[p->n++] = (port_rec) { pf_xstrdup(bridge), pf_xstrdup(port) };
        p->dirty = true;
}

static void drop(pf_ports *p, size_t i) {
        free(p->v[i].bridge);
        free(p->v[i].port);
        p->v[i] = p->v[--p->n];
        p->dirty = true;
}

void pf_ports_forget(pf_ports *p, const char *bridge, const char *port) {
        for (size_t i = 0; i < p->n; i++)
                if (!strcmp(p->v[i].bridge, bridge) && (!port || !strcmp(p->v[i].port, port)))
                        drop(p, i--);
}

void pf_ports_keep_if(pf_ports *p, bool (*keep)(void *ud, const char *bridge, const char *port), void *ud) {
        for (size_t i = 0; i < p->n; i++)
                if (!keep(ud, p->v[i].bridge, p->v[i].port))
                        drop(p, i--);
}

static int load(pf_ports *p, const char *dir, bool read_only, char **err) {
        /* links live in a network namespace, so does the record (init_net has a fixed inode) */
        struct stat st;
        if (stat("/proc/self/ns/net", &st) < 0)
                st.st_ino = 0;
        p->path = pf_xasprintf("%s/links-net%lu.ports", dir, (unsigned long) st.st_ino);
        _cleanup_free_ char *lock = pf_xasprintf("%s.lock", p->path);
        if (!read_only && (p->lock_fd = pf_lock_path(lock)) < 0) {
                *err = pf_xasprintf("cannot lock podform's record of enslaved ports %s: %s (run as root, or set "
                                    "PODFORM_STATE_DIR to a directory of yours)", lock, strerror(errno));
                return -1;
        }
        FILE *f = fopen(p->path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                *err = pf_xasprintf("cannot read podform's record of enslaved ports %s: %s", p->path, strerror(errno));
                return -1;
        }
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        unsigned lineno = 0;
        while (getline(&line, &cap, f) >= 0) {
                lineno++;
                char *save, *br = strtok_r(line, "\t\n", &save), *port = strtok_r(NULL, "\t\n", &save);
                if (!br || br[0] == '#')
                        continue;
                if (!port) {
                        *err = pf_xasprintf("%s:%u: not a line podform wrote (BRIDGE<TAB>PORT); fix or remove it", p->path, lineno);
                        fclose(f);
                        return -1;
                }
                pf_ports_add(p, br, port);
        }
        fclose(f);
        p->dirty = false;
        return 0;
}

pf_ports *pf_ports_open(const char *state_dir, bool read_only, char **err) {
        pf_ports *p = pf_xcalloc(1, sizeof(*p));
        p->lock_fd = -1;
        if (state_dir && load(p, state_dir, read_only, err) < 0) {
                pf_ports_close(p);
                return NULL;
        }
        return p;
}

void pf_ports_close(pf_ports *p) {
        if (!p)
                return;
        for (size_t i = 0; i < p->n; i++) {
                free(p->v[i].bridge);
                free(p->v[i].port);
        }
        free(p->v);
        free(p->path);
        if (p->lock_fd >= 0)
                close(p->lock_fd);
        free(p);
}

int pf_ports_save(pf_ports *p, char **err) {
        if (!p->path || !p->dirty || p->lock_fd < 0)
                return 0;       /* memory only, unchanged, or a plan */
        FILE *f = pf_record_begin(p->path);
        if (!f) {
                *err = pf_xasprintf("cannot write podform's record of enslaved ports %s: %s", p->path, strerror(errno));
                return -1;
        }
        fputs("# podform: ports podform enslaved to a bridge (bridge, port); only these are ever released.\n", f);
        for (size_t i = 0; i < p->n; i++)
                fprintf(f, "%s\t%s\n", p->v[i].bridge, p->v[i].port);
        if (pf_record_commit(f, p->path) < 0) {
                *err = pf_xasprintf("cannot write podform's record of enslaved ports %s: %s", p->path, strerror(errno));
                return -1;
        }
        p->dirty = false;
        return 0;
}
