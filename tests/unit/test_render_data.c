/* test_render_data: every tests/data/render/NAME.yaml is loaded, validated (it must be valid),
 * put through the rules of podform.yaml(5) (resolve/attach.h) and rendered for host kvm01; each
 * rendered document must validate against libvirt's RelaxNG schema and equal its golden file
 * byte for byte:
 *
 *     NAME.network-<network>.xml      pf_render_network_bootp, with the boot options the rules
 *                                     give the Network (podform.yaml(5), DHCP boot options)
 *     NAME.pool-<pool>.xml            pf_render_pool
 *     NAME.volume-<vm>-<disk>.xml     pf_render_volume, one per sized disk
 *     NAME.vm-<vm>.xml                pf_render_domain
 *     NAME.err                        the rules' errors, then the renderer's (file:line:col,
 *                                     as the invalid corpus prints them); absent when none
 *
 * Every other NAME.* file is stale and fails the case. What the live host would tell the
 * renderer and the rules comes from comment lines of NAME.yaml (default: nothing is live):
 *
 *     # fact: network NAME [active] [managed] [dhcp] [owned] [bridge=BR]
 *     # fact: link IFNAME KIND          a host link ("bridge", "device", ...)
 *     # fact: pci IFNAME DDDD:BB:SS.F   a host NIC that is a PCI device (sriov)
 *     # fact: live-network NAME         a libvirt network of the host (multus, genie)
 *     # fact: live-mac VM IFACE MAC     the MAC a live domain records for an interface
 *     # fact: libvirt VERSION           libvirt's version, major * 1000000 + minor * 1000 + micro
 *     # fact: no-rules                  the rules are not run (env.attach NULL)
 *
 * Each case's leading comment says what it shows. PODFORM_REGENERATE=1 rewrites the golden
 * files and removes stale ones (review the diff). Adding a case is adding files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/tree.h>

#include "config/load.h"
#include "config/validate.h"
#include "golden.h"
#include "libvirt/render.h"
#include "resolve/attach.h"
#include "rng.h"
#include "run/reconcile.h"

static int group_setup(void **state) {
        (void) state;
        return pf_rng_load();
}

static int group_teardown(void **state) {
        (void) state;
        pf_rng_free();
        xmlCleanupParser();
        return 0;
}

/* ---- the facts of a case ---- */

enum { MAX_FACTS = 16 };

typedef struct facts {
        pf_net_fact nets[MAX_FACTS];
        size_t n_nets;
        const char *links[MAX_FACTS][2];        /* name, kind */
        size_t n_links;
        const char *pci_if[MAX_FACTS];
        pf_pci pci[MAX_FACTS];
        size_t n_pci;
        const char *live_nets[MAX_FACTS];
        size_t n_live_nets;
        const char *live_mac[MAX_FACTS][3];     /* vm, iface, mac */
        size_t n_live_macs;
        unsigned long libvirt_version;
        bool no_rules;
        char *words[MAX_FACTS * 8];             /* what the pointers above point into */
        size_t n_words;
} facts;

static char *word(facts *f, char **p) {
        char *w = strtok_r(NULL, " \t\n", p);
        if (!w)
                return NULL;
        assert_true(f->n_words < sizeof(f->words) / sizeof(f->words[0]));
        return f->words[f->n_words++] = strdup(w);
}

/* The next word of a fact that must have one. */
static char *need(facts *f, char **p, const char *what) {
        char *w = word(f, p);
        if (!w)
                fail_msg("fact %s: a word is missing", what);
        return w;
}

static void fact_network(facts *f, char **p) {
        assert_true(f->n_nets < MAX_FACTS);
        pf_net_fact *n = &f->nets[f->n_nets++];
        n->name = need(f, p, "network");
        for (char *w; (w = word(f, p));) {
                if (!strcmp(w, "active"))
                        n->active = true;
                else if (!strcmp(w, "managed"))
                        n->managed = true;
                else if (!strcmp(w, "dhcp"))
                        n->dhcp = true;
                else if (!strcmp(w, "owned"))
                        n->owned = true;
                else if (!strncmp(w, "bridge=", 7))
                        n->bridge = w + 7;
                else
                        fail_msg("unknown network fact %s", w);
        }
}

static void fact_line(facts *f, char *line) {
        char *p;
        char *what = strtok_r(line, " \t\n", &p);
        if (!what)
                fail_msg("an empty fact");
        if (!strcmp(what, "network")) {
                fact_network(f, &p);
        } else if (!strcmp(what, "link")) {
                assert_true(f->n_links < MAX_FACTS);
                f->links[f->n_links][0] = need(f, &p, what);
                f->links[f->n_links++][1] = need(f, &p, what);
        } else if (!strcmp(what, "pci")) {
                assert_true(f->n_pci < MAX_FACTS);
                f->pci_if[f->n_pci] = need(f, &p, what);
                pf_pci *a = &f->pci[f->n_pci++];
                if (sscanf(need(f, &p, what), "%hx:%hhx:%hhx.%hhx", &a->domain, &a->bus, &a->slot, &a->function) != 4)
                        fail_msg("fact pci: not DDDD:BB:SS.F");
        } else if (!strcmp(what, "live-network")) {
                assert_true(f->n_live_nets < MAX_FACTS);
                f->live_nets[f->n_live_nets++] = need(f, &p, what);
        } else if (!strcmp(what, "live-mac")) {
                assert_true(f->n_live_macs < MAX_FACTS);
                for (int i = 0; i < 3; i++)
                        f->live_mac[f->n_live_macs][i] = need(f, &p, what);
                f->n_live_macs++;
        } else if (!strcmp(what, "libvirt")) {
                f->libvirt_version = strtoul(need(f, &p, what), NULL, 10);
        } else if (!strcmp(what, "no-rules")) {
                f->no_rules = true;
        } else {
                fail_msg("unknown fact %s", what);
        }
}

static void read_facts(facts *f, const char *text) {
        static const char tag[] = "# fact: ";
        for (const char *s = text; (s = strstr(s, tag)); s++) {
                if (s != text && s[-1] != '\n')
                        continue;
                const char *b = s + strlen(tag), *e = strchr(b, '\n');
                char *line = strndup(b, e ? (size_t) (e - b) : strlen(b));
                fact_line(f, line);
                free(line);
        }
}

static void facts_free(facts *f) {
        for (size_t i = 0; i < f->n_words; i++)
                free(f->words[i]);
}

static const char *cb_live_mac(void *ud, const char *vm, const char *iface) {
        const facts *f = ud;
        for (size_t i = 0; i < f->n_live_macs; i++)
                if (!strcmp(f->live_mac[i][0], vm) && !strcmp(f->live_mac[i][1], iface))
                        return f->live_mac[i][2];
        return NULL;
}

static bool cb_live_network(void *ud, const char *name) {
        const facts *f = ud;
        for (size_t i = 0; i < f->n_live_nets; i++)
                if (!strcmp(f->live_nets[i], name))
                        return true;
        return false;
}

static bool cb_host_pci(void *ud, const char *ifname, pf_pci *ret) {
        const facts *f = ud;
        for (size_t i = 0; i < f->n_pci; i++)
                if (!strcmp(f->pci_if[i], ifname)) {
                        *ret = f->pci[i];
                        return true;
                }
        return false;
}

static const char *cb_link_kind(void *ud, const char *ifname) {
        const facts *f = ud;
        for (size_t i = 0; i < f->n_links; i++)
                if (!strcmp(f->links[i][0], ifname))
                        return f->links[i][1];
        return NULL;
}

/* ---- one case ---- */

typedef struct rcase {
        char base[512];                 /* "render/NAME" */
        char **made;                    /* the golden files this run compared */
        size_t n_made;
} rcase;

/* doc must validate against schema `which` and equal the golden file NAME.suffix. */
static void check_doc(rcase *rc, xmlDocPtr doc, int which, const char *suffix) {
        assert_non_null(doc);
        char *xml = pf_xml_dump(doc);
        if (pf_rng_validate(doc, which) != 0)
                fail_msg("%s.%s does not validate against libvirt's schema:\n%s", rc->base, suffix, xml);
        char *path;
        if (asprintf(&path, "%s.%s", rc->base, suffix) < 0)
                abort();
        pf_golden_check(path, xml, strlen(xml));
        rc->made = realloc(rc->made, (rc->n_made + 1) * sizeof(*rc->made));
        rc->made[rc->n_made++] = path;
        free(xml);
        xmlFreeDoc(doc);
}

static void render_vm(rcase *rc, pf_renderer *r, const pf_vm *vm, pf_diags *d) {
        char suffix[300];
        pf_arena a = { 0 };
        for (size_t k = 0; k < vm->disks.n; k++) {
                const pf_disk *disk = &vm->disks.v[k];
                if (!disk->size)
                        continue;       /* a KubeVirt volume backs it: the renderer says so */
                const char *vol = pf_volume_name(&a, vm->meta.name, disk->name);
                snprintf(suffix, sizeof(suffix), "volume-%s.xml", vol);
                check_doc(rc, pf_render_volume(vol, disk->size, disk->format), RNG_VOLUME, suffix);
        }
        pf_arena_free(&a);
        char *text = NULL;
        xmlDocPtr doc = pf_render_domain_text(r, vm, d, &text);
        if (doc) {
                /* the text made with the hash is the document's own serialization */
                char *dump = pf_xml_dump(doc);
                assert_string_equal(text, dump);
                free(dump);
                free(text);
                snprintf(suffix, sizeof(suffix), "vm-%s.xml", vm->meta.name);
                check_doc(rc, doc, RNG_DOMAIN, suffix);
        }
}

/* Every NAME.* file of render/ is the case's .yaml or one this run compared. */
static void check_stale(rcase *rc) {
        size_t n = 0;
        char **files = pf_golden_list("render", "", &n);
        size_t bl = strlen(rc->base);
        for (size_t i = 0; i < n; i++) {
                if (strncmp(files[i], rc->base, bl) != 0 || files[i][bl] != '.' || !strcmp(files[i] + bl, ".yaml"))
                        continue;
                bool made = false;
                for (size_t k = 0; k < rc->n_made && !made; k++)
                        made = !strcmp(rc->made[k], files[i]);
                if (made)
                        continue;
                if (pf_golden_regenerate())
                        unlink(files[i]);
                else
                        fail_msg("%s is stale: this run rendered no such document (PODFORM_REGENERATE=1 removes it)",
                                 files[i]);
        }
        pf_golden_list_free(files, n);
}

static void load_valid(pf_config *c, const char *path) {
        pf_config_init(c);
        pf_config_load_path(c, path);
        pf_run_check(c);
        if (c->diags.n_errors) {
                pf_diag_sort(&c->diags);
                pf_diag_print(&c->diags, stderr, false);
                fail_msg("%s must be a valid configuration (invalid ones belong in tests/data/invalid)", path);
        }
}

/* The rules' errors, then the renderer's, into NAME.err (none: no such file). */
static void check_diags(rcase *rc, pf_diags *attach_d, pf_diags *d) {
        if (!attach_d->n && !d->n)
                return;
        char *out = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&out, &len);
        pf_diag_sort(attach_d);
        pf_diag_print(attach_d, m, false);
        pf_diag_sort(d);
        pf_diag_print(d, m, false);
        fclose(m);
        char *path;
        if (asprintf(&path, "%s.err", rc->base) < 0)
                abort();
        pf_golden_check(path, out, len);
        rc->made = realloc(rc->made, (rc->n_made + 1) * sizeof(*rc->made));
        rc->made[rc->n_made++] = path;
        free(out);
}

static void render_all(rcase *rc, const pf_model *model, pf_render_env *env, pf_diags *d) {
        pf_renderer *r = pf_renderer_new(env);
        char suffix[300];
        for (size_t i = 0; i < model->networks.n; i++) {
                const pf_network *n = &model->networks.v[i];
                const pf_bootp *b = env->attach ? pf_attach_bootp(env->attach, n) : NULL;
                snprintf(suffix, sizeof(suffix), "network-%s.xml", n->meta.name);
                check_doc(rc, pf_render_network_bootp(n, b), RNG_NETWORK, suffix);
        }
        for (size_t i = 0; i < model->pools.n; i++) {
                snprintf(suffix, sizeof(suffix), "pool-%s.xml", model->pools.v[i].meta.name);
                check_doc(rc, pf_render_pool(&model->pools.v[i]), RNG_POOL, suffix);
        }
        for (size_t i = 0; i < model->vms.n; i++)
                render_vm(rc, r, &model->vms.v[i], d);
        pf_renderer_free(r);
}

static void test_case(void **state) {
        const char *path = *state;      /* "render/NAME.yaml" */
        rcase rc = { 0 };
        snprintf(rc.base, sizeof(rc.base), "%.*s", (int) (strlen(path) - 5), path);
        pf_config c;
        load_valid(&c, path);
        facts f = { 0 };
        size_t len = 0;
        char *text = pf_golden_read(path, &len);
        assert_non_null(text);
        read_facts(&f, text);
        free(text);
        pf_host host;
        if (c.model.hosts.n)
                host = c.model.hosts.v[0];
        else
                pf_host_defaults(&host);
        pf_attach_result attach = { 0 };
        pf_diags attach_d = { 0 }, d = { 0 };
        pf_attach_facts af = { .networks = f.nets, .n_networks = f.n_nets, .links = { .kind = cb_link_kind, .ud = &f },
                               .masq_nat = f.libvirt_version && f.libvirt_version < PF_LIBVIRT_PASST };
        if (!f.no_rules)
                pf_attach_resolve(&c.model, &host, &af, &attach, &attach_d);
        pf_render_env env = { .host_name = "kvm01", .host = &host, .model = &c.model,
                              .live_mac = cb_live_mac, .live_network = cb_live_network,
                              .host_pci = cb_host_pci, .ud = &f, .libvirt_version = f.libvirt_version,
                              .attach = f.no_rules ? NULL : &attach };
        render_all(&rc, &c.model, &env, &d);
        check_diags(&rc, &attach_d, &d);
        check_stale(&rc);
        pf_golden_list_free(rc.made, rc.n_made);
        pf_diag_free(&d);
        pf_diag_free(&attach_d);
        pf_attach_free(&attach);
        facts_free(&f);
        pf_config_free(&c);
}

int main(void) {
        return pf_golden_main(SRCDIR "/tests/data", "render", ".yaml", "render-data", test_case, group_setup,
                              group_teardown);
}
