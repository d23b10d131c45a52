/* boot.c: the DHCP boot options of an interface (podform.yaml(5)): bootFileName and tftpServerName
 * become the bootp option of the declared Network whose DHCP serves the interface, and a
 * libvirt network has one such option for all its guests. */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "model/names.h"
#include "resolve/attach_internal.h"

/* One interface's boot options on their way through the steps below. */
typedef struct breq {
        const pf_vm *vm;
        const pf_iface *i;
        pf_loc at;              /* the first of the two keys given */
        const char *key;        /* its name */
        const char *name;       /* the interface's, or "?" */
} breq;

/* The boot options already asked of n by an interface that can meet vm on a host. */
static pf_bootp *find_bootp(attach_ctx *c, const pf_network *n, const pf_vm *vm) {
        for (size_t i = 0; i < c->n_bp; i++)
                if (c->bp[i].network == n && pf_meta_compatible(&c->bp[i].vm->meta, &vm->meta))
                        return &c->bp[i];
        return NULL;
}

static bool same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

/* The pod network's libvirt network for q (x: its attachment, if any): NULL when there is none
 * to check, or after an error. */
static const char *pod_network(attach_ctx *c, const breq *q, const pf_attachment *x) {
        /* the pod network is the host's to decide; and validate must accept KubeVirt's own
         * examples (spec section 2), which give boot options to a masquerade interface */
        if (c->no_host)
                return NULL;
        if (q->i->binding == PF_BINDING_SLIRP || q->i->binding == PF_BINDING_MASQUERADE) {
                pf_error(c->d, q->at, "%s: interface '%s' uses QEMU's user networking (%s), whose DHCP podform does "
                         "not control; attach it to a Network with DHCP", q->key, q->name,
                         pf_enum_name(&pf_binding_enum, q->i->binding));
                return NULL;
        }
        if (!x)
                return NULL;    /* unresolved: already an error */
        if (x->target != PF_TARGET_NETWORK) {
                pf_arena a = { 0 };
                pf_error(c->d, q->at, "%s: the pod network of this host is %s (rule %s of " PF_MAN_POD_RULES "), where "
                         "no DHCP server podform controls would serve it; drop %s, or attach interface '%s' to a Network "
                         "with DHCP", q->key,
                         pf_attachment_target(&a, x), pf_attach_rule_name(x->rule), q->key, q->name);
                pf_arena_free(&a);
                return NULL;
        }
        return x->source;
}

/* The libvirt network whose DHCP would serve q on network n: NULL when there is none to check
 * (host, macvtap and constraints networks: validation reports them), or after an error. */
static const char *boot_network(attach_ctx *c, const breq *q, const pf_vm_net *n, const pf_attachment *x) {
        if (pf_net_is_pod(n))
                return pod_network(c, q, x);
        if (n->backend == PF_BACKEND_NETWORK)
                return n->network;
        if (n->backend != PF_BACKEND_MULTUS && n->backend != PF_BACKEND_GENIE)
                return NULL;
        const char *netname = n->network_name;
        if (c->no_host && netname && !attach_declared_network(c->m, q->vm, netname))
                return NULL;    /* a live network or a bridge: only the host can tell */
        if (netname && !attach_view_network(c, netname).exists) {
                pf_error(c->d, q->at, "%s: network '%s' is a host bridge, where no DHCP server podform controls would "
                         "serve it; drop %s, or use a Network with DHCP", q->key, netname, q->key);
                return NULL;
        }
        return netname;
}

/* The first IPv4 ips[] entry of net with dhcp, or net->ips.n. */
static size_t dhcp_ip_index(const pf_network *net) {
        size_t ipi = net->ips.n;
        for (size_t k = 0; k < net->ips.n && ipi == net->ips.n; k++)
                if (net->ips.v[k].address.family == AF_INET && pf_loc_set(net->ips.v[k].dhcp_loc))
                        ipi = k;
        return ipi;
}

/* Whether Network net can serve q's boot options from its entry ips[ipi]: false after an
 * error. */
static bool boot_servable(attach_ctx *c, const breq *q, const pf_network *net, size_t ipi, const pf_attachment *x) {
        const pf_iface *i = q->i;
        const char *netname = net->meta.name;
        if (ipi == net->ips.n && x && x->rule == PF_RULE_A) {
                pf_error(c->d, q->at, "%s: the pod network of this host is Network '%s' (rules a, b of " PF_MAN_POD_RULES
                         "), which serves no DHCP, and rule a never takes one that does: MAAS's DHCP serves boot files "
                         "there; drop %s", q->key, netname, q->key);
                return false;
        }
        if (ipi == net->ips.n) {
                pf_error(c->d, q->at, "%s: Network '%s' (%s:%u) serves no DHCP on IPv4; give it ips[].dhcp, or drop %s",
                         q->key, netname, attach_src_path(net->meta.name_loc), net->meta.name_loc.line, q->key);
                return false;
        }
        if (!pf_loc_set(i->boot_file_name_loc)) {
                pf_error(c->d, i->tftp_server_name_loc, "tftpServerName needs bootFileName: libvirt's bootp option names "
                         "a file, and the server is optional");
                return false;
        }
        pf_ip server_ip;
        if (i->tftp_server_name && pf_parse_ip(i->tftp_server_name, &server_ip)) {
                pf_error(c->d, i->tftp_server_name_loc, "tftpServerName: libvirt's bootp takes the server's IP address, not "
                         "a name; give the address of '%s'", i->tftp_server_name);
                return false;
        }
        const pf_net_ip *ip = &net->ips.v[ipi];
        if (ip->bootp_file && (strcmp(ip->bootp_file, i->boot_file_name) ||
                               (i->tftp_server_name && !same_str(ip->bootp_server, i->tftp_server_name)))) {
                pf_error(c->d, q->at, "%s: Network '%s' already serves bootp file '%s'%s%s (%s:%u), and a libvirt network "
                         "serves one bootp option to all its guests; make them agree, or keep one", q->key, netname,
                         ip->bootp_file, ip->bootp_server ? " from " : "", ip->bootp_server ? ip->bootp_server : "",
                         attach_src_path(ip->bootp_loc), ip->bootp_loc.line);
                return false;
        }
        return true;
}

/* Records q's boot options on Network net, unless an interface that can meet it on a host asked
 * net for others (reported). */
static void boot_record(attach_ctx *c, const breq *q, const pf_network *net, size_t ipi) {
        const pf_iface *i = q->i;
        const char *server = i->tftp_server_name ? i->tftp_server_name : net->ips.v[ipi].bootp_server;
        pf_bootp *b = find_bootp(c, net, q->vm);
        if (b) {
                if (strcmp(b->file, i->boot_file_name) || !same_str(b->server, server)) {
                        pf_loc o = b->iface->boot_file_name_loc;
                        pf_error(c->d, q->at, "%s: interface '%s' asks Network '%s' for bootp file '%s'%s%s, but interface "
                                 "'%s' of VM %s (%s:%u) asks for '%s'%s%s, and a libvirt network serves one bootp option "
                                 "to all its guests; make them agree", q->key, q->name, net->meta.name,
                                 i->boot_file_name, server ? " from " : "", server ? server : "",
                                 b->iface->name ? b->iface->name : "?", b->vm->meta.name, attach_src_path(o), o.line,
                                 b->file, b->server ? " from " : "", b->server ? b->server : "");
                }
                return;
        }
        c->bp = attach_room(&c->r->arena, c->bp, c->n_bp, &c->cap_bp, sizeof(*c->bp));
        c->bp[c->n_bp++] = (pf_bootp) { .network = net, .vm = q->vm, .iface = i, .ip_index = ipi,
                                        .file = i->boot_file_name, .server = server };
}

void boot_options(attach_ctx *c, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n, const pf_attachment *x) {
        bool file = pf_loc_set(i->boot_file_name_loc);
        breq q = { .vm = vm, .i = i, .at = file ? i->boot_file_name_loc : i->tftp_server_name_loc,
                   .key = file ? "bootFileName" : "tftpServerName", .name = i->name ? i->name : "?" };
        const char *netname = boot_network(c, &q, n, x);
        if (!netname)
                return;
        const pf_network *net = attach_declared_network(c->m, vm, netname);
        if (!net) {
                pf_error(c->d, q.at, "%s: libvirt network '%s' is not declared in the configuration, so podform does not "
                         "manage its DHCP; declare Network '%s' with dhcp, or drop %s", q.key, netname, netname, q.key);
                return;
        }
        size_t ipi = dhcp_ip_index(net);
        if (boot_servable(c, &q, net, ipi, x))
                boot_record(c, &q, net, ipi);
}
