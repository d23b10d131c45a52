/* load.c: configuration files -> documents -> resources of the model.
 *
 * A document's `kind` chooses the table its spec is walked with (kinds.c, kinds_vm.c); the
 * walker (parse.c) reports every problem and keeps going. */
#include "config.h"
#include "config/load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/values.h"
#include "config/walk.h"
#include "config/yaml.h"
#include "model/names.h"
#include "util/xalloc.h"

/* ---- documents ---- */

/* Resources are appended to growing arrays; pointers into them are stable once loading ends. */
typedef struct anylist { void *v; size_t n; } anylist;

static void *append_resource(pf_config *c, pf_kind kind) {
        const kind_info *k = &pf_cfg_kinds[kind];
        anylist l;
        memcpy(&l, at(&c->model, k->list_offset), sizeof(l));
        if ((l.n & (l.n - 1)) == 0)     /* grow at powers of two */
                l.v = pf_xreallocarray(l.v, l.n ? 2 * l.n : 1, k->size);
        void *r = at(l.v, l.n * k->size);
        memset(r, 0, k->size);
        l.n++;
        memcpy(at(&c->model, k->list_offset), &l, sizeof(l));
        return r;
}

/* `kind` is read before the walk (it chooses spec's table); the walk only marks it as seen. */
static bool p_kind_seen(walk *w, const pf_node *n, void *base, const field *f) {
        (void) w, (void) n, (void) base, (void) f;
        return true;
}

static bool p_skip(walk *w, const pf_node *n, void *base, const field *f) {
        (void) w, (void) n, (void) base, (void) f;
        return true;
}

static const pf_node *root_value(const pf_node *root, const char *key) {
        for (size_t i = 0; i < root->n; i++) {
                const pf_node *k = root->items[2 * i];
                if (k->type == PF_NODE_SCALAR && strcmp(k->value, key) == 0)
                        return root->items[2 * i + 1];
        }
        return NULL;
}

/* The kind the document declares, or -1 (a bad kind has been reported). */
static int document_kind(walk *w, const pf_node *kind_node) {
        int kind = -1;
        if (kind_node) {
                field kf = { .key = "kind" };
                const char *s = pf_cfg_scalar(w, kind_node, &kf, "a string");
                if (s)
                        pf_cfg_enum_value(w, kind_node, &pf_kind_enum, s, &kind);      /* reports a bad kind */
        }
        return kind;
}

/* A new resource of `kind` with its defaults, or for an unknown kind, `scratch` (walked for its
 * errors, then dropped). */
static void *begin_resource(walk *w, int kind, pf_meta *scratch) {
        if (kind < 0) {
                memset(scratch, 0, sizeof(*scratch));
                return scratch;
        }
        void *res = append_resource(w->cfg, (pf_kind) kind);
        if (pf_cfg_kinds[kind].init)
                pf_cfg_kinds[kind].init(res, &w->cfg->arena);
        w->cfg->n_resources++;
        return res;
}

static bool has_required(const table *spec) {
        bool any = false;
        for (size_t j = 0; spec && j < spec->n; j++)
                any |= spec->fields[j].required;
        return any;
}

/* The top mapping: apiVersion, kind, metadata and spec (walked with the kind's table). */
static void walk_top(walk *w, const pf_node *root, pf_meta *res, int kind, const pf_node *kind_node) {
        const table *spec = kind >= 0 ? pf_cfg_kinds[kind].spec : NULL;
        const field top_fields[] = {
                { "apiVersion", p_api_version, offsetof(pf_meta, api_version), offsetof(pf_meta, api_version_loc), NULL, true, false },
                { "kind", p_kind_seen, 0, offsetof(pf_meta, kind_loc), NULL, true, false },
                { "metadata", p_map, 0, NOLOC, &pf_cfg_meta_table, true, false },
                { "spec", spec ? p_map : p_skip, 0, NOLOC, spec, has_required(spec), false },
        };
        char what[48];
        snprintf(what, sizeof(what), "%s document", kind >= 0 ? pf_kind_enum.names[kind] : "the");
        const table top = { what, top_fields, 4, offsetof(pf_meta, loc), NULL };
        w->key_loc = (pf_loc) { 0 };
        pf_cfg_walk_table(w, root, res, &top, "the document", loc_of(w, root));
        if (kind_node)
                res->kind_loc = loc_of(w, kind_node);
        /* a spec left out still gets its cross-field checks, as an empty mapping */
        if (spec && !root_value(root, "spec") && spec->finish) {
                static const pf_node null_node = { .type = PF_NODE_SCALAR, .plain = true, .value = "" };
                spec->finish(w, &null_node, loc_of(w, root), res);
        }
}

/* A link's name is a kernel interface name; any other resource's, a podform name. */
static void check_resource_name(walk *w, const pf_meta *meta, int kind) {
        if (!meta->name)
                return;
        bool link = kind >= 0 && pf_cfg_kinds[kind].link;
        const char *why = link ? pf_check_ifname(meta->name, strlen(meta->name))
                               : pf_check_name(meta->name, strlen(meta->name));
        if (why) {
                char q[PF_QUOTE_MAX];
                pf_error(D(w), meta->name_loc, "%s name %s %s%s", kind >= 0 ? pf_kind_enum.names[kind] : "resource",
                         pf_quote(q, sizeof(q), meta->name, strlen(meta->name)), why,
                         link ? " (it is the name of a host link)" : "");
        }
}

static void load_document(walk *w, const pf_yaml_doc *doc) {
        const pf_node *root = doc->root;
        w->visits = 0;
        w->budget = 4 * (uint64_t) doc->n_nodes + 10000;
        w->over_budget = false;
        w->doc_loc = (pf_loc) { w->src, doc->line, doc->col };
        if (!root || pf_node_is_null(root))
                return;         /* an empty document, e.g. after a trailing "---" */
        if (root->type != PF_NODE_MAPPING) {
                pf_error(D(w), loc_of(w, root),
                         "a document must be a mapping with apiVersion, kind, metadata and spec, not %s",
                         pf_cfg_type_name(root));
                return;
        }
        const pf_node *kind_node = root_value(root, "kind");
        int kind = document_kind(w, kind_node);
        pf_meta scratch_meta;
        pf_meta *meta = begin_resource(w, kind, &scratch_meta);  /* every resource starts with its pf_meta */
        size_t errors_before = D(w)->n_errors;
        walk_top(w, root, meta, kind, kind_node);
        check_resource_name(w, meta, kind);
        meta->load_failed = D(w)->n_errors > errors_before;
}

void pf_config_init(pf_config *c) {
        memset(c, 0, sizeof(*c));
}

void pf_config_free(pf_config *c) {
        for (size_t k = 0; k < _PF_KIND_MAX; k++) {
                anylist l;
                memcpy(&l, at(&c->model, pf_cfg_kinds[k].list_offset), sizeof(l));
                free(l.v);
        }
        free(c->read_files);
        pf_diag_free(&c->diags);
        pf_arena_free(&c->arena);
        memset(c, 0, sizeof(*c));
}

static void load_source(pf_config *c, const pf_source *src) {
        pf_yaml_docs docs;
        c->n_files++;
        /* the model keeps the scalars, not the tree: 4 KB of nodes per VirtualMachine */
        pf_arena nodes = { 0 };
        pf_yaml_parse(&c->arena, &nodes, src, &c->diags, &docs);
        walk w = { .cfg = c, .src = src };
        for (size_t i = 0; i < docs.n; i++)
                load_document(&w, &docs.v[i]);
        free(docs.v);
        pf_arena_free(&nodes);
}

void pf_config_load_buffer(pf_config *c, const char *name, const char *text, size_t len) {
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, name);
        src->text = pf_arena_strndup(&c->arena, text, len);
        src->len = len;
        load_source(c, src);
}

/* A source without text: for errors about the file itself. */
static pf_loc file_loc(pf_config *c, const char *path) {
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, path);
        return (pf_loc) { src, 0, 0 };
}

/* Whether the file was read already; if not, it is now counted as read. */
static bool read_before(pf_config *c, const struct stat *st) {
        for (size_t i = 0; i < c->n_read_files; i++)
                if (c->read_files[i].dev == st->st_dev && c->read_files[i].ino == st->st_ino)
                        return true;
        c->read_files = pf_xreallocarray(c->read_files, c->n_read_files + 1, sizeof(*c->read_files));
        c->read_files[c->n_read_files++] = (struct pf_file_id) { st->st_dev, st->st_ino };
        return false;
}

static void load_file(pf_config *c, const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                pf_error(&c->diags, file_loc(c, path), "cannot read the file: %s", strerror(errno));
                if (fd >= 0)
                        close(fd);
                return;
        }
        if (read_before(c, &st)) {
                close(fd);
                return;
        }
        if (st.st_size > (off_t) PF_MAX_FILE_SIZE) {
                pf_error(&c->diags, file_loc(c, path), "the file is larger than %u MiB; podform refuses to read it",
                         PF_MAX_FILE_SIZE >> 20);
                close(fd);
                return;
        }
        size_t cap = (size_t) st.st_size + 1, len = 0;
        char *text = pf_arena_alloc(&c->arena, cap);
        for (;;) {
                ssize_t r = read(fd, text + len, cap - 1 - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        pf_error(&c->diags, file_loc(c, path), "cannot read the file: %s", strerror(errno));
                        close(fd);
                        return;
                }
                if (r == 0)
                        break;
                len += (size_t) r;
                if (len == cap - 1)
                        break;  /* the file grew while we read it: what we have is what we load */
        }
        close(fd);
        pf_source *src = pf_arena_alloc(&c->arena, sizeof(*src));
        src->path = pf_arena_strdup(&c->arena, path);
        src->text = text;
        src->len = len;
        load_source(c, src);
}

typedef struct path_list { char **v; size_t n, cap; } path_list;

static bool yaml_name(const char *name) {
        size_t n = strlen(name);
        return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

enum { MAX_DIR_DEPTH = 32 };

static void collect(pf_config *c, const char *dir, path_list *out, int depth) {
        if (depth > MAX_DIR_DEPTH) {
                pf_error(&c->diags, file_loc(c, dir), "directories are nested deeper than %d levels (a symlink loop?)",
                         MAX_DIR_DEPTH);
                return;
        }
        DIR *d = opendir(dir);
        if (!d) {
                pf_error(&c->diags, file_loc(c, dir), "cannot read the directory: %s", strerror(errno));
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;       /* also skips .git and editors' swap files */
                char *path;
                if (asprintf(&path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", e->d_name) < 0)
                        pf_oom();
                struct stat st;
                if (stat(path, &st) < 0) {
                        free(path);     /* a dangling symlink is not configuration */
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        collect(c, path, out, depth + 1);
                        free(path);
                } else if (S_ISREG(st.st_mode) && yaml_name(e->d_name)) {
                        if (out->n == out->cap) {
                                out->cap = out->cap ? 2 * out->cap : 64;
                                out->v = pf_xreallocarray(out->v, out->cap, sizeof(*out->v));
                        }
                        out->v[out->n++] = path;
                } else {
                        free(path);
                }
        }
        closedir(d);
}

static int path_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void pf_config_load_path(pf_config *c, const char *path) {
        struct stat st;
        if (stat(path, &st) < 0) {
                pf_error(&c->diags, file_loc(c, path), "cannot read the configuration: %s", strerror(errno));
                return;
        }
        if (!S_ISDIR(st.st_mode)) {
                load_file(c, path);
                return;
        }
        path_list files = { 0 };
        collect(c, path, &files, 0);
        /* Byte order of the whole path: the same on every machine, whatever the locale. */
        if (files.n)    /* an empty directory: no array, and qsort may not be given NULL */
                qsort(files.v, files.n, sizeof(*files.v), path_cmp);
        for (size_t i = 0; i < files.n; i++) {
                load_file(c, files.v[i]);
                free(files.v[i]);
        }
        free(files.v);
}
