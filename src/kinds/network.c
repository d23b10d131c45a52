/* network.c: the Network kind. DHCP hosts and ranges change in place (virNetworkUpdate); what
 * libvirt cannot update (forward mode, bridge, addresses, bootp) restarts the network. */
#include "config.h"
#include "kinds/network.h"

#include <string.h>

#include <libvirt/virterror.h>

#include "config/values.h"
#include "kinds/libvirt_common.h"
#include "kinds/link.h"
#include "libvirt/conn.h"
#include "libvirt/fields.h"
#include "libvirt/merge.h"
#include "model/names.h"
#include "resolve/masq.h"
#include "util/cleanup.h"
#include "util/xml.h"

#define MUTATE PF_LV_MUTATE

static char *network_xml(virNetworkPtr net) {
        char *xml = virNetworkGetXMLDesc(net, VIR_NETWORK_XML_INACTIVE);
        if (!xml) /* the test driver knows no flags; its networks have one definition */
                xml = virNetworkGetXMLDesc(net, 0);
        return xml;
}

static void observe_one(pf_kind_ctx *k, virNetworkPtr net, const pf_lv_names *active, const pf_lv_names *autostart,
                        pf_objset *have, pf_fields *fb) {
        char uuid[VIR_UUID_STRING_BUFLEN];
        _cleanup_free_ char *xml = network_xml(net);
        _cleanup_xml_doc_ xmlDocPtr doc = xml ? pf_xml_parse(xml) : NULL;
        if (!doc || virNetworkGetUUIDString(net, uuid) != 0)
                return;
        const char *name = virNetworkGetName(net);
        bool on = pf_lv_names_has(active, name);
        size_t idx = have->objs.n;
        pf_obj *o = pf_objset_add(have, PF_R_NETWORK, name);
        o->xml = pf_arena_strdup(&have->arena, xml);
        o->uuid = pf_arena_strdup(&have->arena, uuid);
        o->active = on;
        o->owned = pf_owner_has(pf_lv_owner(k->lv), PF_R_NETWORK, name, uuid);
        pf_lv_network_fields(doc, fb);
        pf_add_state_fields(fb, on, pf_lv_names_has(autostart, name));
        pf_fields_finish(fb, &have->objs.v[idx]);
}

static int observe(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, char **err) {
        (void) self;
        virNetworkPtr *nets = NULL;
        int n = virConnectListAllNetworks(pf_lv_conn(k->lv), &nets, 0);
        if (n < 0) {
                *err = pf_xasprintf("cannot list networks: %s", pf_lv_reason());
                return -1;
        }
        /* run state and autostart from two filtered lists, not two calls per network */
        pf_lv_names active = { 0 }, autostart = { 0 };
        int r = n == 0 ? 0 : pf_lv_list_names(k->lv, PF_LV_LIST_NETWORKS, VIR_CONNECT_LIST_NETWORKS_ACTIVE, &active, err);
        if (r == 0 && n)
                r = pf_lv_list_names(k->lv, PF_LV_LIST_NETWORKS, VIR_CONNECT_LIST_NETWORKS_AUTOSTART, &autostart, err);
        pf_fields fb;
        pf_fields_init(&fb, &have->arena);
        for (int i = 0; i < n; i++) {
                if (r == 0)
                        observe_one(k, nets[i], &active, &autostart, have, &fb);
                virNetworkFree(nets[i]);
        }
        free(nets);
        pf_fields_free(&fb);
        pf_lv_names_free(&active);
        pf_lv_names_free(&autostart);
        return r;
}

/* A live network as rule (a)/(b) sees it: from the fields observing read (fields.c). */
static void network_fact(pf_arena *a, const pf_obj *o, pf_net_fact *f) {
        *f = (pf_net_fact) { .name = o->name, .active = o->active, .owned = o->owned };
        const pf_field *mode = pf_obj_field(o, "forward"), *br = pf_obj_field(o, "bridge"),
                       *devs = pf_obj_field(o, "forward.interfaces");
        int fwd = mode ? pf_enum_lookup(&pf_forward_enum, mode->value) : -1;
        f->managed = fwd >= 0 && pf_forward_own_bridge((pf_forward) fwd);
        f->bridge = br ? br->value : NULL;
        size_t n = devs ? 1 : 0;
        for (const char *c = devs ? devs->value : ""; *c; c++)
                n += *c == ',';
        const char **v = pf_arena_array(a, n + 1, sizeof(*v));
        for (const char *c = devs ? devs->value : NULL; c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
                v[f->n_devs++] = pf_arena_strndup(a, c, strcspn(c, ","));
        f->devs = v;
        for (size_t i = 0; i < o->fields.n; i++) {
                const char *k = o->fields.v[i].key;
                size_t len = strlen(k);
                f->dhcp |= !strncmp(k, "ip[", 3) && len > 6 && !strcmp(k + len - 6, "].dhcp");
        }
}

pf_net_fact *pf_network_facts(pf_objset *have, size_t *n) {
        size_t n_nets = 0;
        for (size_t i = 0; i < have->objs.n; i++)
                n_nets += have->objs.v[i].kind == PF_R_NETWORK;
        pf_net_fact *nets = pf_xcalloc(n_nets + 1, sizeof(*nets));
        n_nets = 0;
        for (size_t i = 0; i < have->objs.n; i++)
                if (have->objs.v[i].kind == PF_R_NETWORK)
                        network_fact(&have->arena, &have->objs.v[i], &nets[n_nets++]);
        *n = n_nets;
        return nets;
}

/* libvirt keeps no <dhcp> without a range or a host: it drops the element, boot options and
 * all, so such a declaration would be sent on every apply and never be there. A plan error,
 * judged on the document (boot options may come from the VMs' interfaces, podform.yaml(5)). */
static void check_dhcp(const pf_network *n, xmlDocPtr doc, pf_diags *d) {
        size_t i = 0;
        for (xmlNodePtr ip = xmlDocGetRootElement(doc)->children; ip; ip = ip->next) {
                if (!pf_xml_is(ip, "ip"))
                        continue;
                xmlNodePtr dhcp = pf_xml_child(ip, "dhcp");
                char addr[64];
                if (dhcp && !pf_xml_child(dhcp, "range") && !pf_xml_child(dhcp, "host"))
                        pf_error(d, n->ips.v[i].dhcp_loc, "network '%s': dhcp on %s has no range or host, and "
                                 "libvirt drops a <dhcp> without one (boot options and all): give it ranges "
                                 "(ranges: [{start: ..., end: ...}]) or hosts, or remove dhcp", n->meta.name,
                                 pf_ip_format(&n->ips.v[i].address, addr));
                i++;
        }
}

/* bridge.stp unset: off for a new network, as on a Bridge; a network that exists keeps its own
 * (on, libvirt's, was the default before), since a changed default must not recreate it. */
static pf_network with_live_stp(const pf_network *n, const pf_objset *have) {
        pf_network v = *n;
        const pf_obj *live = pf_loc_set(n->bridge_stp_loc) ? NULL : pf_objset_find(have, PF_R_NETWORK, n->meta.name);
        const pf_field *stp = live ? pf_obj_field(live, "bridge.stp") : NULL;
        if (stp)
                v.bridge_stp = !strcmp(stp->value, "on");
        return v;
}

static void desire_one(pf_kind_ctx *k, pf_objset *have, pf_objset *want, const pf_network *declared, pf_fields *wb,
                       pf_diags *d) {
        pf_network net = with_live_stp(declared, have);
        const pf_network *n = &net;
        _cleanup_xml_doc_ xmlDocPtr doc = pf_render_network_bootp(n, k->attach ? pf_attach_bootp(k->attach, declared) : NULL);
        check_dhcp(n, doc, d);
        size_t idx = pf_add_desired(want, PF_R_NETWORK, n->meta.name, doc, n->meta.name_loc);
        want->objs.v[idx].active = n->active;
        pf_lv_network_fields(doc, wb);
        pf_add_state_fields(wb, n->active, n->autostart);
        pf_fields_finish(wb, &want->objs.v[idx]);
}

static void desire(const pf_kind_ops *self, pf_kind_ctx *k, pf_objset *have, pf_objset *want, pf_diags *d) {
        (void) self;
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        for (size_t i = 0; i < k->model->networks.n; i++)
                desire_one(k, have, want, &k->model->networks.v[i], &wb, d);
        pf_fields_free(&wb);
}

void pf_network_desire(pf_kind_ctx *k, pf_objset *have, pf_objset *want, const pf_network *n, pf_diags *d) {
        pf_fields wb;
        pf_fields_init(&wb, &want->arena);
        desire_one(k, have, want, n, &wb, d);
        pf_fields_free(&wb);
}

/* Libvirt networks that sit on host links: their bridge or forward devices must exist. */
static void check(const pf_kind_ops *self, pf_kind_ctx *k, const pf_objset *have, pf_diags *d) {
        (void) self;
        (void) have;
        for (size_t i = 0; i < k->model->networks.n; i++) {
                const pf_network *n = &k->model->networks.v[i];
                if (pf_forward_own_bridge(n->forward))
                        continue;       /* not on host links */
                const char *kind = n->bridge_name ? pf_links_kind(k, n->bridge_name) : NULL;
                if (n->bridge_name)
                        pf_link_check_exists(k, d, n->bridge_name_loc, "bridge", n->bridge_name,
                                             "forward: bridge attaches to an existing bridge; declare it as a Bridge or fix the name");
                if (kind && strcmp(kind, "bridge") != 0)
                        pf_error(d, n->bridge_name_loc, "bridge '%s' of Network %s is a %s, not a bridge; forward: bridge "
                                 "needs one (declare a Bridge), or use \"interfaces\" for macvtap devices", n->bridge_name,
                                 n->meta.name, kind);
                for (size_t x = 0; x < n->interfaces.n; x++) {
                        const char *dev = n->interfaces.v[x].name, *bridge = pf_links_port_of(k, dev);
                        pf_link_check_exists(k, d, n->interfaces.v[x].loc, "forward interface", dev,
                                             "create it, declare it, or fix the name");
                        if (bridge)
                                pf_error(d, n->interfaces.v[x].loc, "forward interface '%s' is a port of bridge %s, and "
                                         "the kernel puts no macvtap on a bridge port; use forward: bridge with "
                                         "bridge.name %s instead", dev, bridge, bridge);
                }
        }
}

static int network_create(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = MUTATE(h, virNetworkDefineXML(pf_lv_conn(h), a->want->xml));
        if (!n) {
                *err = pf_lv_error("cannot define network", a->name);
                return -1;
        }
        char uuid[VIR_UUID_STRING_BUFLEN];
        if (virNetworkGetUUIDString(n, uuid) == 0)
                pf_owner_set(pf_lv_owner(h), PF_R_NETWORK, a->name, uuid);
        int r = 0;
        if (pf_action_wants(a, "autostart") && MUTATE(h, virNetworkSetAutostart(n, 1)) < 0)
                *err = pf_lv_error("cannot mark network for autostart", a->name), r = -1;
        else if (a->want->active && MUTATE(h, virNetworkCreate(n)) < 0)
                *err = pf_lv_error("cannot start network", a->name), r = -1;
        if (r < 0) {
                if (virNetworkIsActive(n) == 1)
                        MUTATE(h, virNetworkDestroy(n));
                if (MUTATE(h, virNetworkUndefine(n)) == 0)
                        pf_owner_drop(pf_lv_owner(h), PF_R_NETWORK, a->name);
        }
        return r;
}

/* The <ip> of a network document with this address, and its index among the <ip>s. */
static xmlNodePtr find_ip(xmlDocPtr doc, const char *addr, int *index) {
        int i = 0;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
                if (pf_xml_is(c, "ip")) {
                        if (pf_xml_prop_eq(c, "address", addr)) {
                                *index = i;
                                return c;
                        }
                        i++;
                }
        return NULL;
}

/* The DHCP <range> or <host> of key "ip[A].dhcp.range[S]" / "ip[A].dhcp.host[M]". */
static xmlNodePtr find_dhcp_entry(xmlDocPtr doc, const char *key, int *ip_index, bool *is_host) {
        char addr[128], id[256];
        const char *p = strchr(key, '[');
        const char *q = p ? strchr(p, ']') : NULL;
        if (!q)
                return NULL;
        snprintf(addr, sizeof(addr), "%.*s", (int) (q - p - 1), p + 1);
        *is_host = strstr(q, ".dhcp.host[") != NULL;
        const char *r = strchr(q + 1, '[');
        if (!r)
                return NULL;
        snprintf(id, sizeof(id), "%s", r + 1);
        id[strcspn(id, "]")] = '\0';
        xmlNodePtr ip = find_ip(doc, addr, ip_index);
        for (xmlNodePtr c = pf_xml_child(pf_xml_child(ip, "dhcp"), *is_host ? "host" : "range"); c; c = c->next) {
                if (!pf_xml_is(c, *is_host ? "host" : "range"))
                        continue;
                if (*is_host ? pf_xml_prop_eq(c, "mac", id) || pf_xml_prop_eq(c, "name", id) : pf_xml_prop_eq(c, "start", id))
                        return c;
        }
        return NULL;
}

/* DHCP hosts and ranges change in place, through virNetworkUpdate: dnsmasq reloads, guests
 * keep their link. Every old entry goes first, then the new ones are added: an entry that
 * moves its address, name or MAC to another would collide with it otherwise, and libvirt's
 * MODIFY picks the first entry matching any of the three, which may be the wrong one. */
static int network_update_dhcp(pf_lv_host *h, virNetworkPtr n, const pf_action *a, char **err) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(a->want->xml), have = pf_xml_parse(a->have->xml);
        unsigned flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG | (a->have->active ? VIR_NETWORK_UPDATE_AFFECT_LIVE : 0);
        int r = 0;
        for (int adding = 0; adding < 2 && r == 0 && want && have; adding++) {
                for (size_t i = 0; i < a->changes.n && r == 0; i++) {
                        const pf_change *c = &a->changes.v[i];
                        if (!strstr(c->key, ".dhcp.host[") && !strstr(c->key, ".dhcp.range["))
                                continue;
                        if (!(adding ? c->new_value : c->old_value))
                                continue;
                        int index = 0;
                        bool is_host = false;
                        xmlDocPtr doc = adding ? want : have;
                        xmlNodePtr entry = find_dhcp_entry(doc, c->key, &index, &is_host);
                        if (!entry)
                                continue;
                        _cleanup_free_ char *x = pf_xml_node_dump(doc, entry);
                        int section = is_host ? VIR_NETWORK_SECTION_IP_DHCP_HOST : VIR_NETWORK_SECTION_IP_DHCP_RANGE;
                        unsigned cmd = adding ? VIR_NETWORK_UPDATE_COMMAND_ADD_LAST : VIR_NETWORK_UPDATE_COMMAND_DELETE;
                        if (MUTATE(h, virNetworkUpdate(n, cmd, section, index, x, flags)) < 0) {
                                *err = pf_xasprintf("cannot %s %s of network %s in place: %s", adding ? "add" : "remove",
                                                    c->key, a->name, pf_lv_reason());
                                r = -1;
                        }
                }
        }
        return r;
}

static int network_change(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), a->name);
        if (!n) {
                *err = pf_lv_error("cannot find network", a->name);
                return -1;
        }
        int r = 0;
        bool active = a->have->active;
        if (pf_action_recreates(a)) {
                _cleanup_free_ char *xml = pf_lv_merge_network(a->want->xml, a->have->xml);
                virNetworkPtr nn = NULL;
                /* stop, then define: an inactive network takes the new definition at once on
                 * every driver (an active one may keep the old one until it restarts) */
                if (active && MUTATE(h, virNetworkDestroy(n)) < 0)
                        *err = pf_lv_error("cannot stop network (to restart it)", a->name), r = -1;
                else if (!(nn = MUTATE(h, virNetworkDefineXML(pf_lv_conn(h), xml)))) {
                        *err = pf_lv_error("cannot redefine network", a->name), r = -1;
                        if (active)     /* put the old one back rather than leave guests cut off */
                                MUTATE(h, virNetworkCreate(n));
                } else
                        active = false;
                if (nn)
                        virNetworkFree(nn);
        } else {
                r = network_update_dhcp(h, n, a, err);
        }
        if (r == 0 && a->want->active && !active && MUTATE(h, virNetworkCreate(n)) < 0)
                *err = pf_lv_error("cannot start network", a->name), r = -1;
        if (r == 0 && !a->want->active && active && MUTATE(h, virNetworkDestroy(n)) < 0)
                *err = pf_lv_error("cannot stop network", a->name), r = -1;
        if (r == 0 && pf_action_change(a, "autostart") && MUTATE(h, virNetworkSetAutostart(n, pf_action_wants(a, "autostart"))) < 0)
                *err = pf_lv_error("cannot change autostart of network", a->name), r = -1;
        return r;
}

static int network_delete(pf_lv_host *h, const pf_action *a, char **err) {
        _cleanup_virt_network_ virNetworkPtr n = virNetworkLookupByName(pf_lv_conn(h), a->name);
        if (!n) {
                *err = pf_lv_error("cannot find network", a->name);
                return -1;
        }
        int r = 0;
        if (virNetworkIsActive(n) == 1 && MUTATE(h, virNetworkDestroy(n)) < 0)
                *err = pf_lv_error("cannot stop network", a->name), r = -1;
        else if (MUTATE(h, virNetworkUndefine(n)) < 0)
                *err = pf_lv_error("cannot undefine network", a->name), r = -1;
        else
                pf_owner_drop(pf_lv_owner(h), PF_R_NETWORK, a->name);
        return r;
}

static int apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        virResetLastError();
        return a->op == PF_OP_CREATE   ? network_create(k->lv, a, err)
               : a->op == PF_OP_CHANGE ? network_change(k->lv, a, err)
                                       : network_delete(k->lv, a, err);
}

/* ---- show ---- */

static void show_dhcp(pf_arena *t, xmlNodePtr dhcp, pf_yaml_out *y) {
        /* libvirt writes <dhcp> only with a range or a host (check_dhcp): never an empty one */
        xmlNodePtr bootp = pf_xml_child(dhcp, "bootp");
        pf_yaml_map(y, "dhcp");
        static const char *const lists[] = { "range", "host" };
        for (size_t l = 0; l < 2; l++) {
                if (!pf_xml_child(dhcp, lists[l]))
                        continue;
                pf_yaml_seq(y, l ? "hosts" : "ranges");
                for (xmlNodePtr c = dhcp->children; c; c = c->next) {
                        if (!pf_xml_is(c, lists[l]))
                                continue;
                        pf_yaml_item(y);
                        static const char *const keys[2][3] = { { "start", "end", NULL }, { "mac", "ip", "name" } };
                        for (size_t i = 0; i < 3 && keys[l][i]; i++) {
                                const char *v = pf_xml_prop(t, c, keys[l][i]);
                                if (*v)
                                        pf_yaml_scalar(y, keys[l][i], PF_YAML_STR, v);
                        }
                        pf_yaml_end(y);
                }
                pf_yaml_end(y);
        }
        if (bootp) {
                pf_yaml_map(y, "bootp");
                pf_yaml_scalar(y, "file", PF_YAML_STR, pf_xml_prop(t, bootp, "file"));
                const char *server = pf_xml_prop(t, bootp, "server");
                if (*server)
                        pf_yaml_scalar(y, "server", PF_YAML_STR, server);
                pf_yaml_end(y);
        }
        pf_yaml_end(y);
}

static void show_ips(pf_arena *t, xmlNodePtr root, pf_yaml_out *y) {
        if (!pf_xml_child(root, "ip"))
                return;
        pf_yaml_seq(y, "ips");
        for (xmlNodePtr ip = root->children; ip; ip = ip->next) {
                if (!pf_xml_is(ip, "ip"))
                        continue;
                pf_yaml_item(y);
                pf_yaml_scalar(y, "address", PF_YAML_STR, pf_xml_prop(t, ip, "address"));
                const char *prefix = pf_xml_prop(t, ip, "prefix");
                if (!*prefix)
                        prefix = pf_arena_printf(t, "%u", pf_lv_netmask_prefix(pf_xml_prop(t, ip, "netmask")));
                pf_yaml_scalar(y, "prefix", PF_YAML_NUM, prefix);
                xmlNodePtr dhcp = pf_xml_child(ip, "dhcp");
                if (dhcp)
                        show_dhcp(t, dhcp, y);
                pf_yaml_end(y);
        }
        pf_yaml_end(y);
}

/* The forward mode, its devices and NAT ports, and the bridge (its name always: libvirt picks
 * one when none is given, and the network keeps it). */
static void show_forward(pf_arena *t, xmlNodePtr root, pf_yaml_out *y) {
        xmlNodePtr fwd = pf_xml_child(root, "forward");
        const char *mode = fwd ? pf_xml_prop(t, fwd, "mode") : "none";
        pf_yaml_scalar(y, "forward", PF_YAML_STR, *mode ? mode : "nat");
        size_t n = 0;
        for (xmlNodePtr c = fwd ? fwd->children : NULL; c; c = c->next)
                n += pf_xml_is(c, "interface");
        if (n) {
                const char **devs = pf_arena_array(t, n, sizeof(*devs));
                n = 0;
                for (xmlNodePtr c = fwd->children; c; c = c->next)
                        if (pf_xml_is(c, "interface"))
                                devs[n++] = pf_xml_prop(t, c, "dev");
                pf_yaml_list(y, "interfaces", PF_YAML_STR, devs, n);
        }
        xmlNodePtr port = pf_xml_child(pf_xml_child(fwd, "nat"), "port");
        if (port) {
                pf_yaml_map(y, "nat");
                pf_yaml_map(y, "ports");
                /* a missing end stays missing: the document then does not load, and show says so */
                static const char *const ends[] = { "start", "end" };
                for (size_t i = 0; i < 2; i++)
                        if (*pf_xml_prop(t, port, ends[i]))
                                pf_yaml_scalar(y, ends[i], PF_YAML_NUM, pf_xml_prop(t, port, ends[i]));
                pf_yaml_end(y);
                pf_yaml_end(y);
        }
        xmlNodePtr br = pf_xml_child(root, "bridge");
        int fwd_mode = pf_enum_lookup(&pf_forward_enum, *mode ? mode : "nat");
        bool own = fwd_mode >= 0 && pf_forward_own_bridge((pf_forward) fwd_mode);
        const char *name = pf_xml_prop(t, br, "name");
        if (!*name && !own)
                return;
        pf_yaml_map(y, "bridge");
        if (*name)
                pf_yaml_scalar(y, "name", PF_YAML_STR, name);
        if (own) {
                /* libvirt's defaults when the attributes are absent (fields.c reads them alike) */
                const char *stp = pf_xml_prop(t, br, "stp"), *delay = pf_xml_prop(t, br, "delay");
                pf_yaml_scalar(y, "stp", PF_YAML_BOOL, !*stp || !strcmp(stp, "on") ? "true" : "false");
                pf_yaml_scalar(y, "forwardDelay", PF_YAML_NUM, *delay ? delay : "0");
        }
        pf_yaml_end(y);
}

/* What show writes of a network's XML: each element's attributes (space-separated, the first
 * one names the element in a comment) and child elements; anything else is said in a comment
 * (spec: never silently dropped). */
typedef struct xml_shape {
        const char *name, *attrs;
        const struct xml_shape *children;
} xml_shape;

static const xml_shape dhcp_shape[] = {
        { "range", "start end", NULL }, { "host", "mac ip name", NULL }, { "bootp", "file server", NULL }, { NULL },
};
static const xml_shape ip_shape[] = { { "dhcp", "", dhcp_shape }, { NULL } };
static const xml_shape nat_shape[] = { { "port", "start end", NULL }, { NULL } };
/* forward dev= is the first of <interface>s, which show writes */
static const xml_shape forward_shape[] = { { "interface", "dev", NULL }, { "nat", "", nat_shape }, { NULL } };
/* ip family= follows from the address */
static const xml_shape network_shape[] = {
        { "name", "", NULL }, { "uuid", "", NULL }, { "forward", "mode dev", forward_shape },
        { "bridge", "name stp delay", NULL }, { "mtu", "size", NULL }, { "domain", "name", NULL },
        { "ip", "address prefix netmask family", ip_shape }, { NULL },
};

static bool word_in(const char *words, const char *w) {
        size_t n = strlen(w);
        for (const char *p = words; (p = strstr(p, w)); p += n)
                if ((p == words || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
                        return true;
        return false;
}

static const xml_shape *shape_of(const xml_shape *children, xmlNodePtr c) {
        for (const xml_shape *s = children; s && s->name; s++)
                if (pf_xml_is(c, s->name))
                        return s;
        return NULL;
}

/* " address='192.168.50.1'": what names an element in a comment: the first of `attrs` it has
 * (NULL: all of its attributes). */
static const char *tag_attrs(pf_arena *t, xmlNodePtr n, const char *attrs) {
        const char *text = "";
        for (xmlAttrPtr a = attrs ? NULL : n->properties; a; a = a->next)
                text = pf_arena_printf(t, "%s %s='%s'", text, a->name, pf_xml_prop(t, n, (const char *) a->name));
        for (const char *w = attrs; w && *w; w += strcspn(w, " "), w += *w == ' ') {
                const char *name = pf_arena_strndup(t, w, strcspn(w, " ")), *v = pf_xml_prop(t, n, name);
                if (*v)
                        return pf_arena_printf(t, " %s='%s'", name, v);
        }
        return text;
}

/* The network's own attributes and top-level elements stay as they are (merges keep them);
 * what is inside the elements podform writes goes when podform redefines the network. `above`
 * is n's ancestors as a comment names them, NULL for the root. */
static void say_unshown(pf_arena *t, xmlNodePtr n, const xml_shape *shape, const char *above, pf_yaml_out *y) {
        static const char drops[] = ": podform's format has no key for it, and podform redefining the network drops it";
        static const char keeps[] = " is kept as it is: podform's format has no key for it";
        const char *tail = above ? drops : keeps, *ident = tag_attrs(t, n, shape->attrs);
        for (xmlAttrPtr a = n->properties; a; a = a->next)
                if (!word_in(shape->attrs, (const char *) a->name))
                        pf_yaml_comment(y, "%s<%s%s %s='%s'>%s", above ? above : "", n->name, above ? ident : "", a->name,
                                        pf_xml_prop(t, n, (const char *) a->name), tail);
        const char *here = above ? pf_arena_printf(t, "%s<%s%s>", above, n->name, ident) : "";
        for (xmlNodePtr c = n->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE)
                        continue;
                const xml_shape *s = shape_of(shape->children, c);
                if (s)
                        say_unshown(t, c, s, here, y);
                else
                        pf_yaml_comment(y, "%s<%s%s>%s", here, c->name, tag_attrs(t, c, NULL), tail);
        }
}

static void show(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_objset *have, const pf_obj *live, pf_yaml_out *y) {
        (void) k, (void) have;
        if (live->owned && !strcmp(live->name, PF_MASQ_NETWORK)) {
                pf_yaml_aside(y, "network %s is podform's NAT network for the masquerade interfaces of the VMs "
                              "shown: no document declares it", live->name);
                return;
        }
        _cleanup_xml_doc_ xmlDocPtr doc = pf_xml_parse(live->xml);
        xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!root)
                return;
        pf_arena t = { 0 };
        pf_kind_show_head(self, live, y);
        pf_yaml_map(y, "spec");
        show_forward(&t, root, y);
        const char *mtu = pf_xml_prop(&t, pf_xml_child(root, "mtu"), "size");
        if (*mtu)
                pf_yaml_scalar(y, "mtu", PF_YAML_NUM, mtu);
        const char *domain = pf_xml_prop(&t, pf_xml_child(root, "domain"), "name");
        if (*domain)
                pf_yaml_scalar(y, "domain", PF_YAML_STR, domain);
        show_ips(&t, root, y);
        pf_yaml_scalar(y, "autostart", PF_YAML_BOOL, pf_kind_show_bool(live, "autostart"));
        pf_yaml_scalar(y, "active", PF_YAML_BOOL, pf_kind_show_bool(live, "active"));
        static const xml_shape root_shape = { "network", "", network_shape };
        say_unshown(&t, root, &root_shape, NULL, y);
        pf_yaml_end(y);
        pf_arena_free(&t);
}

/* ---- graph ---- */

/* "ip[172.16.99.1]" and not "ip[172.16.99.1].dhcp": an address of the network */
static bool is_address_key(const char *key) {
        const char *close = !strncmp(key, "ip[", 3) ? strchr(key, ']') : NULL;
        return close && close[1] == '\0';
}

static const char *graph_label(const pf_obj *o, const char *forward, pf_graph *g) {
        const char *label = pf_arena_printf(&g->arena, "network %s\nforward %s", o->name, forward);
        for (size_t i = 0; i < o->fields.n; i++) {
                const pf_field *f = &o->fields.v[i];
                if (is_address_key(f->key))
                        label = pf_arena_printf(&g->arena, "%s\n%s%s", label, f->value,
                                                pf_obj_field(o, pf_arena_printf(&g->arena, "%s.dhcp", f->key)) ? " dhcp" : "");
        }
        return label;
}

/* A network, and what it sits on: its bridge (a host bridge with forward bridge, else its own,
 * which libvirt makes and deletes with it) and its forward devices. */
static void graph(const pf_kind_ops *self, const pf_kind_ctx *k, const pf_obj *o, pf_graph *g) {
        (void) self;
        (void) k;
        const pf_field *fwd = pf_obj_field(o, "forward"), *bridge = pf_obj_field(o, "bridge");
        const char *forward = fwd ? fwd->value : "none";
        const char *id = pf_graph_id(g, "network", o->name);
        pf_graph_node_add(g, PF_GR_NETWORK, id, graph_label(o, forward, g));
        if (bridge && *bridge->value) {
                bool own = strcmp(forward, "bridge") != 0;
                const char *to = pf_graph_id(g, "link", bridge->value);
                pf_graph_ref_add(g, PF_GR_LINK, to, pf_arena_printf(&g->arena, "bridge %s%s", bridge->value,
                                                                    own ? "\n(the network's own)" : ""));
                pf_graph_edge_add(g, id, to, own ? "own bridge" : NULL, NULL);
        }
        const pf_field *devs = pf_obj_field(o, "forward.interfaces");
        const char *list = devs ? devs->value : NULL, *dev;
        while ((dev = pf_graph_next_item(g, &list))) {
                const char *to = pf_graph_id(g, "link", dev);
                pf_graph_ref_add(g, PF_GR_NIC, to, dev);
                pf_graph_edge_add(g, id, to, "forward", NULL);
        }
}

const pf_kind_ops pf_network_kind = {
        .rkind = PF_R_NETWORK, .model_kind = PF_KIND_NETWORK, .order = PF_ORDER_NEEDS_LINKS, .flags = PF_KIND_LIBVIRT,
        .observe = observe, .desire = desire, .check = check, .apply = apply, .show = show, .graph = graph,
};
