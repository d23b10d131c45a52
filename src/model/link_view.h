/* link_view.h: what the stages after observation ask of the host's links, as declared, else as
 * on the host. One view, made by the link kinds over what the netlink transport observed
 * (kinds/link.h: pf_links_view), read by the attachment rules and the renderer; tests give their
 * own. */
#pragma once

typedef struct pf_link_view {
        /* The kind of link `ifname` ("bridge", "macvlan", "macvtap", "veth", "device" for a NIC
         * without one), NULL when it is neither declared nor on the host. */
        const char *(*kind)(void *ud, const char *ifname);
        /* The bridge `ifname` is (or is declared to become) a port of, else NULL. */
        const char *(*port_of)(void *ud, const char *ifname);
        /* The declared or live link name nearest to `ifname` that is not it, for a "did you
         * mean"; NULL when none is near. */
        const char *(*near)(void *ud, const char *ifname);
        void *ud;               /* passed to all; a callback left NULL: not checked */
} pf_link_view;
