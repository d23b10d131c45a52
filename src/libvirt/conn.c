/* conn.c: the libvirt transport (conn.h). */
#include "config.h"
#include "libvirt/conn.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "util/cleanup.h"
#include "util/xalloc.h"
#include "util/xml.h"

/* A machine alias and what libvirt stores instead ("pc" -> "pc-i440fx-7.2"), per arch. */
typedef struct machine_alias { char *arch, *alias, *canonical; } machine_alias;
/* Whether the host offers kvm for an arch, asked once per arch. */
typedef struct arch_kvm { char *arch; bool kvm; } arch_kvm;

struct pf_lv_host {
        virConnectPtr conn;
        /* a worker's connection: everything else is the host's it was opened for (root) */
        pf_lv_host *root;
        pf_lv_host **workers;           /* the host's: workers[1..n_workers-1]; [0] is itself */
        size_t n_workers;
        virStoragePoolPtr *pools;       /* looked up on this connection in this apply */
        size_t n_pools;
        char *uri;
        pf_owner *owner;
        pf_lv_opts opts;
        atomic_ulong mutations;         /* workers count theirs on the root */
        machine_alias *machines;
        size_t n_machines;
        bool machines_read;
        xmlDocPtr caps;                 /* the capabilities, read once; NULL until then or unreadable */
        bool caps_read;
        arch_kvm *kvm;
        size_t n_kvm;
        pf_lv_doc *docs;
        size_t n_docs, cap_docs;
        bool docs_sorted;
        bool keep_docs;
        pf_arena docs_arena;            /* the entries' facts */
};

const char *pf_lv_reason(void) {
        const virError *e = virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

char *pf_lv_error(const char *what, const char *name) { return pf_xasprintf("%s %s: %s", what, name, pf_lv_reason()); }

/* libvirt prints errors to stderr by default; podform reports them itself. */
static void quiet_errors(void *ud, virErrorPtr e) { (void) ud; (void) e; }

pf_lv_host *pf_lv_open(const char *uri, const char *state_dir, const pf_lv_opts *o, char **err) {
        virSetErrorFunc(NULL, quiet_errors);
        virConnectPtr conn = virConnectOpen(uri);
        if (!conn) {
                *err = pf_xasprintf("cannot connect to libvirt at %s: %s", uri, pf_lv_reason());
                return NULL;
        }
        /* the test driver's host lives and dies with this process, so does its record */
        bool ephemeral = strncmp(uri, "test:", 5) == 0;
        pf_owner *owner = pf_owner_open(ephemeral ? NULL : state_dir, uri, err);
        if (!owner) {
                virConnectClose(conn);
                return NULL;
        }
        pf_lv_host *h = pf_xcalloc(1, sizeof(*h));
        h->conn = conn;
        h->uri = pf_xstrdup(uri);
        h->owner = owner;
        h->opts = *o;
        return h;
}

void pf_lv_docs_clear(pf_lv_host *h) {
        for (size_t i = 0; i < h->n_docs; i++) {
                free(h->docs[i].name);
                xmlFreeDoc(h->docs[i].doc);
                xmlFreeDoc(h->docs[i].running);
                xmlFreeDoc(h->docs[i].desired);
        }
        free(h->docs);
        h->docs = NULL;
        h->n_docs = h->cap_docs = 0;
        pf_arena_free(&h->docs_arena);
}

pf_arena *pf_lv_docs_arena(pf_lv_host *h) { return &h->docs_arena; }
void pf_lv_keep_docs(pf_lv_host *h, bool keep) { h->keep_docs = keep; }
bool pf_lv_keeps_docs(const pf_lv_host *h) { return h->keep_docs; }

void pf_lv_close(pf_lv_host *h) {
        if (!h)
                return;
        pf_lv_docs_clear(h);
        for (size_t i = 0; i < h->n_machines; i++) {
                free(h->machines[i].arch);
                free(h->machines[i].alias);
                free(h->machines[i].canonical);
        }
        free(h->machines);
        for (size_t i = 0; i < h->n_kvm; i++)
                free(h->kvm[i].arch);
        free(h->kvm);
        xmlFreeDoc(h->caps);
        pf_owner_free(h->owner);
        pf_lv_forget_pools(h);
        for (size_t w = 1; w < h->n_workers; w++) {
                virConnectClose(h->workers[w]->conn);
                free(h->workers[w]);
        }
        free(h->workers);
        virConnectClose(h->conn);
        free(h->uri);
        free(h);
}

/* What a worker shares with the host it was opened for: all but the connection. */
#define ROOT(h) ((h)->root ? (h)->root : (h))

const char *pf_lv_uri(const pf_lv_host *h) { return ROOT(h)->uri; }
virConnectPtr pf_lv_conn(const pf_lv_host *h) { return h->conn; }
const pf_lv_opts *pf_lv_options(const pf_lv_host *h) { return &ROOT(h)->opts; }
pf_owner *pf_lv_owner(pf_lv_host *h) { return ROOT(h)->owner; }
void pf_lv_count_mutation(pf_lv_host *h) { atomic_fetch_add_explicit(&ROOT(h)->mutations, 1, memory_order_relaxed); }
unsigned long pf_lv_mutations(const pf_lv_host *h) { return atomic_load(&ROOT(h)->mutations); }
int pf_lv_save(pf_lv_host *h, char **err) { return pf_owner_save(ROOT(h)->owner, err); }

/* ---- connections for apply's workers ---- */

size_t pf_lv_open_workers(pf_lv_host *h, size_t n, char **err) {
        h = ROOT(h);
        if (!h->workers) {
                h->workers = pf_xcalloc(1, sizeof(*h->workers));
                h->workers[0] = h;
                h->n_workers = 1;
        }
        /* the test driver's host is its connection's alone: its workers share that one
         * (a virConnectPtr may be used from several threads at once) */
        bool shared = strncmp(h->uri, "test:", 5) == 0;
        while (h->n_workers < n) {
                virConnectPtr c = shared ? h->conn : virConnectOpen(h->uri);
                if (!c) {
                        *err = pf_xasprintf("cannot open connection %zu of %zu to libvirt at %s: %s", h->n_workers + 1,
                                            n, h->uri, pf_lv_reason());
                        break;
                }
                if (shared)
                        virConnectRef(c);
                pf_lv_host *w = pf_xcalloc(1, sizeof(*w));
                w->conn = c;
                w->root = h;
                h->workers = pf_xreallocarray(h->workers, h->n_workers + 1, sizeof(*h->workers));
                h->workers[h->n_workers++] = w;
        }
        return n < h->n_workers ? n : h->n_workers;
}

pf_lv_host *pf_lv_worker(pf_lv_host *h, size_t w) {
        h = ROOT(h);
        return w && w < h->n_workers ? h->workers[w] : h;
}

virStoragePoolPtr pf_lv_pool(pf_lv_host *h, const char *name) {
        for (size_t i = 0; i < h->n_pools; i++)
                if (!strcmp(virStoragePoolGetName(h->pools[i]), name))
                        return h->pools[i];
        virStoragePoolPtr p = virStoragePoolLookupByName(h->conn, name);
        if (p) {
                h->pools = pf_xreallocarray(h->pools, h->n_pools + 1, sizeof(*h->pools));
                h->pools[h->n_pools++] = p;
        }
        return p;
}

static void forget_pools(pf_lv_host *h) {
        for (size_t i = 0; i < h->n_pools; i++)
                virStoragePoolFree(h->pools[i]);
        free(h->pools);
        h->pools = NULL;
        h->n_pools = 0;
}

void pf_lv_forget_pools(pf_lv_host *h) {
        h = ROOT(h);
        forget_pools(h);
        for (size_t w = 1; w < h->n_workers; w++)
                forget_pools(h->workers[w]);
}

int pf_lv_node(pf_lv_host *h, unsigned *cpus, uint64_t *memory_kib, char **err) {
        virNodeInfo info;
        if (virNodeGetInfo(h->conn, &info) < 0) {
                *err = pf_xasprintf("cannot read the host's CPUs and memory: %s", pf_lv_reason());
                return -1;
        }
        *cpus = info.cpus;
        *memory_kib = info.memory;
        return 0;
}

unsigned long pf_lv_version(pf_lv_host *h) {
        unsigned long v;
        return virConnectGetLibVersion(h->conn, &v) < 0 ? 0 : v;
}

/* ---- machine aliases, from the capabilities ---- */

static void add_machines(pf_lv_host *h, xmlNodePtr arch_node) {
        xmlChar *arch = xmlGetProp(arch_node, BAD_CAST "name");
        for (xmlNodePtr m = arch_node->children; m; m = m->next) {
                if (!pf_xml_is(m, "machine"))
                        continue;
                xmlChar *canon = xmlGetProp(m, BAD_CAST "canonical"), *alias = xmlNodeGetContent(m);
                if (canon && alias && arch) {
                        h->machines = pf_xreallocarray(h->machines, h->n_machines + 1, sizeof(*h->machines));
                        h->machines[h->n_machines++] = (machine_alias) {
                                pf_xstrdup((char *) arch), pf_xstrdup((char *) alias), pf_xstrdup((char *) canon) };
                }
                xmlFree(canon);
                xmlFree(alias);
        }
        xmlFree(arch);
}

/* The host's capabilities document, read once (NULL when libvirt gives none). */
static xmlDocPtr capabilities(pf_lv_host *h) {
        if (!h->caps_read) {
                h->caps_read = true;
                char *caps = virConnectGetCapabilities(h->conn);
                h->caps = caps ? pf_xml_parse(caps) : NULL;
                free(caps);
                virResetLastError();
        }
        return h->caps;
}

static void read_machines(pf_lv_host *h) {
        h->machines_read = true;
        xmlDocPtr doc = capabilities(h);
        if (!doc)
                return;
        for (xmlNodePtr g = xmlDocGetRootElement(doc)->children; g; g = g->next)
                for (xmlNodePtr a = pf_xml_is(g, "guest") ? g->children : NULL; a; a = a->next)
                        if (pf_xml_is(a, "arch"))
                                add_machines(h, a);
}

const char *pf_lv_canon_machine(void *ud, const char *arch, const char *machine) {
        pf_lv_host *h = ud;
        if (!h->machines_read)
                read_machines(h);
        for (size_t i = 0; i < h->n_machines; i++)
                if (!strcmp(h->machines[i].arch, arch) && !strcmp(h->machines[i].alias, machine))
                        return h->machines[i].canonical;
        return machine;
}

/* ---- the domain type the host offers ---- */

bool pf_lv_caps_offer(xmlDocPtr caps, const char *arch, const char *type) {
        xmlNodePtr root = caps ? xmlDocGetRootElement(caps) : NULL;
        for (xmlNodePtr g = root ? root->children : NULL; g; g = g->next)
                for (xmlNodePtr a = pf_xml_is(g, "guest") ? g->children : NULL; a; a = a->next) {
                        if (!pf_xml_is(a, "arch") || !pf_xml_prop_eq(a, "name", arch))
                                continue;
                        for (xmlNodePtr d = a->children; d; d = d->next)
                                if (pf_xml_is(d, "domain") && pf_xml_prop_eq(d, "type", type))
                                        return true;
                }
        return false;
}

bool pf_lv_domcaps_offer(xmlDocPtr domcaps, const char *type) {
        xmlNodePtr root = domcaps ? xmlDocGetRootElement(domcaps) : NULL;
        xmlNodePtr d = root && pf_xml_is(root, "domainCapabilities") ? pf_xml_child(root, "domain") : NULL;
        _cleanup_xml_char_ xmlChar *v = d ? xmlNodeGetContent(d) : NULL;
        return v && !xmlStrcmp(v, BAD_CAST type);
}

/* As MAAS asks: the domain capabilities for kvm (libvirt refuses them where KVM is unusable),
 * and where the driver has none, the capabilities. */
static bool host_offers_kvm(pf_lv_host *h, const char *arch, const char *machine) {
        char *x = virConnectGetDomainCapabilities(h->conn, NULL, arch, machine, "kvm", 0);
        if (x) {
                _cleanup_xml_doc_ xmlDocPtr doc = pf_xml_parse(x);
                free(x);
                return pf_lv_domcaps_offer(doc, "kvm");
        }
        const virError *e = virGetLastError();
        bool unsupported = e && e->code == VIR_ERR_NO_SUPPORT;
        virResetLastError();
        return unsupported && pf_lv_caps_offer(capabilities(h), arch, "kvm");
}

bool pf_lv_offers_kvm(pf_lv_host *h, const char *arch, const char *machine) {
        for (size_t i = 0; i < h->n_kvm; i++)
                if (!strcmp(h->kvm[i].arch, arch))
                        return h->kvm[i].kvm;
        bool kvm = host_offers_kvm(h, arch, machine);
        h->kvm = pf_xreallocarray(h->kvm, h->n_kvm + 1, sizeof(*h->kvm));
        h->kvm[h->n_kvm++] = (arch_kvm) { pf_xstrdup(arch), kvm };
        return kvm;
}

/* What guests the host runs, from the capabilities: "x86_64 (qemu, kvm), i686 (qemu)". */
char *pf_lv_guests(pf_lv_host *h) {
        xmlDocPtr doc = capabilities(h);
        pf_arena a = { 0 };
        const char *out = "";
        for (xmlNodePtr g = doc ? xmlDocGetRootElement(doc)->children : NULL; g; g = g->next)
                for (xmlNodePtr arch = pf_xml_is(g, "guest") ? g->children : NULL; arch; arch = arch->next) {
                        if (!pf_xml_is(arch, "arch"))
                                continue;
                        const char *types = "";
                        for (xmlNodePtr d = arch->children; d; d = d->next)
                                if (pf_xml_is(d, "domain"))
                                        types = pf_arena_printf(&a, "%s%s%s", types, *types ? ", " : "",
                                                                pf_xml_prop(&a, d, "type"));
                        const char *entry = pf_arena_printf(&a, "%s (%s)", pf_xml_prop(&a, arch, "name"), types);
                        if (!strstr(out, entry))
                                out = pf_arena_printf(&a, "%s%s%s", out, *out ? ", " : "", entry);
                }
        char *r = pf_xstrdup(*out ? out : "none listed");
        pf_arena_free(&a);
        return r;
}

/* ---- node devices ---- */

/* Whether node device `doc` is the NIC `ifname` on a PCI parent, and which. */
static bool device_pci(xmlDocPtr doc, const char *ifname, pf_pci *ret) {
        _cleanup_xml_char_ xmlChar *parent = NULL, *iface = NULL;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next) {
                if (pf_xml_is(c, "parent") && !parent)
                        parent = xmlNodeGetContent(c);
                if (pf_xml_is(c, "capability"))
                        for (xmlNodePtr d = c->children; d; d = d->next)
                                if (pf_xml_is(d, "interface") && !iface)
                                        iface = xmlNodeGetContent(d);
        }
        unsigned dom, bus, slot, fn;
        if (!iface || !parent || strcmp((char *) iface, ifname) ||
            sscanf((char *) parent, "pci_%x_%x_%x_%x", &dom, &bus, &slot, &fn) != 4)
                return false;
        *ret = (pf_pci) { (uint16_t) dom, (uint8_t) bus, (uint8_t) slot, (uint8_t) fn };
        return true;
}

bool pf_lv_owned_network_ip(pf_lv_host *h, const char *name, char *buf, size_t size) {
        virNetworkPtr net = virNetworkLookupByName(h->conn, name);
        char uuid[VIR_UUID_STRING_BUFLEN];
        bool found = false;
        if (net && virNetworkGetUUIDString(net, uuid) == 0 && pf_owner_has(ROOT(h)->owner, PF_R_NETWORK, name, uuid)) {
                _cleanup_free_ char *xml = virNetworkGetXMLDesc(net, 0);
                _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                xmlNodePtr ip = doc ? pf_xml_child(xmlDocGetRootElement(doc), "ip") : NULL;
                pf_arena t = { 0 };
                const char *addr = pf_xml_prop(&t, ip, "address"), *prefix = pf_xml_prop(&t, ip, "prefix");
                found = *addr && *prefix && snprintf(buf, size, "%s/%s", addr, prefix) < (int) size;
                pf_arena_free(&t);
        }
        if (net)
                virNetworkFree(net);
        else
                virResetLastError();
        return found;
}

bool pf_lv_host_pci(pf_lv_host *h, const char *ifname, pf_pci *ret) {
        virNodeDevicePtr *devs = NULL;
        int n = virConnectListAllNodeDevices(h->conn, &devs, VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET);
        bool found = false;
        for (int i = 0; i < n; i++) {
                char *xml = found ? NULL : virNodeDeviceGetXMLDesc(devs[i], 0);
                _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
                free(xml);
                if (doc)
                        found = device_pci(doc, ifname, ret);
                virNodeDeviceFree(devs[i]);
        }
        free(devs);
        virResetLastError();
        return found;
}

/* ---- filtered lists ---- */

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

/* One typed list call per kind of object: its names into v (NULL: the call failed). */
#define LIST_NAMES(T, list_all, get_name, free_obj)                                          \
        static char **list_##T(virConnectPtr c, unsigned flags, size_t *n) {                  \
                T *objs = NULL;                                                              \
                int got = list_all(c, &objs, flags);                                         \
                if (got < 0)                                                                 \
                        return NULL;                                                         \
                char **v = pf_xcalloc((size_t) got + 1, sizeof(*v));                          \
                for (int i = 0; i < got; i++) {                                              \
                        const char *name = get_name(objs[i]);                                \
                        v[i] = pf_xstrdup(name ? name : "");                                 \
                        free_obj(objs[i]);                                                   \
                }                                                                            \
                free(objs);                                                                  \
                *n = (size_t) got;                                                           \
                return v;                                                                    \
        }
LIST_NAMES(virDomainPtr, virConnectListAllDomains, virDomainGetName, virDomainFree)
LIST_NAMES(virNetworkPtr, virConnectListAllNetworks, virNetworkGetName, virNetworkFree)
LIST_NAMES(virStoragePoolPtr, virConnectListAllStoragePools, virStoragePoolGetName, virStoragePoolFree)
#undef LIST_NAMES

int pf_lv_list_names(pf_lv_host *h, pf_lv_list what, unsigned flags, pf_lv_names *ret, char **err) {
        static const char *const what_name[] = { "domains", "networks", "storage pools" };
        size_t n = 0;
        char **v = what == PF_LV_LIST_DOMAINS    ? list_virDomainPtr(h->conn, flags, &n)
                   : what == PF_LV_LIST_NETWORKS ? list_virNetworkPtr(h->conn, flags, &n)
                                                 : list_virStoragePoolPtr(h->conn, flags, &n);
        if (!v) {
                *err = pf_xasprintf("cannot list %s: %s", what_name[what], pf_lv_reason());
                return -1;
        }
        qsort(v, n, sizeof(*v), cmp_name);
        *ret = (pf_lv_names) { v, n };
        return 0;
}

bool pf_lv_names_has(const pf_lv_names *s, const char *name) {
        return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_name) != NULL;
}

void pf_lv_names_free(pf_lv_names *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (pf_lv_names) { 0 };
}

/* ---- documents ---- */

static int cmp_doc(const void *a, const void *b) {
        const pf_lv_doc *x = a, *y = b;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        return strcmp(x->name, y->name);
}

pf_lv_doc *pf_lv_doc_find(pf_lv_host *h, pf_rkind kind, const char *name) {
        h = ROOT(h);    /* a worker's connection holds no documents; the first call sorts them,
                         * on the main thread (observe and plan: apply's workers only look up) */
        if (!h->docs_sorted) {
                if (h->n_docs)
                        qsort(h->docs, h->n_docs, sizeof(*h->docs), cmp_doc);
                h->docs_sorted = true;
        }
        pf_lv_doc key = { .kind = kind, .name = (char *) name };
        return h->n_docs ? bsearch(&key, h->docs, h->n_docs, sizeof(*h->docs), cmp_doc) : NULL;
}

pf_lv_doc *pf_lv_doc_add(pf_lv_host *h, pf_rkind kind, const char *name) {
        if (h->n_docs == h->cap_docs)
                h->docs = pf_xreallocarray(h->docs, h->cap_docs = h->cap_docs ? 2 * h->cap_docs : 64, sizeof(*h->docs));
        h->docs_sorted = false;
        h->docs[h->n_docs] = (pf_lv_doc) { .kind = kind, .name = pf_xstrdup(name) };
        return &h->docs[h->n_docs++];
}

size_t pf_lv_n_docs(const pf_lv_host *h) { return ROOT(h)->n_docs; }
pf_lv_doc *pf_lv_doc_at(pf_lv_host *h, size_t i) { return &ROOT(h)->docs[i]; }
