#include "config.h"
#include "config/values.h"

#include <inttypes.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct unit { const char *suffix; uint64_t factor; } units[] = {
        { "Ki", 1ULL << 10 }, { "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 }, { "Ti", 1ULL << 40 },
        { "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 }, { "GiB", 1ULL << 30 }, { "TiB", 1ULL << 40 },
        { "k", 1000ULL }, { "M", 1000000ULL }, { "G", 1000000000ULL }, { "T", 1000000000000ULL },
        { "KB", 1000ULL }, { "MB", 1000000ULL }, { "GB", 1000000000ULL }, { "TB", 1000000000000ULL },
};

const char *pf_parse_quantity(const char *s, uint64_t *ret) {
        const char *p = s;
        uint64_t whole = 0;
        if (!isdigit((unsigned char) *p))
                return "is not a quantity: expected a number and a unit, like 2Gi or 500M";
        for (; isdigit((unsigned char) *p); p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return "is too large";
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        uint64_t frac = 0, frac_scale = 1;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return "is not a quantity: expected digits after the decimal point";
                for (; isdigit((unsigned char) *p); p++) {
                        if (frac_scale >= 1000000000ULL)
                                return "has too many decimal places (at most 9)";
                        frac = frac * 10 + (uint64_t) (*p - '0');
                        frac_scale *= 10;
                }
        }
        if (!*p)
                return "has no unit; a bare number is ambiguous: write e.g. 2Gi (binary) or 2G (decimal)";
        const struct unit *u = NULL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(p, units[i].suffix) == 0)
                        u = &units[i];
        if (!u)
                return "has an unknown unit: use Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal)";
        if (whole > UINT64_MAX / u->factor)
                return "is too large";
        uint64_t bytes = whole * u->factor;
        /* frac < frac_scale <= 1e9 and factor <= 2^40, so frac * factor fits in 64 bits. */
        uint64_t frac_bytes = frac * u->factor;
        if (frac_bytes % frac_scale)
                return "is not a whole number of bytes";
        if (bytes > UINT64_MAX - frac_bytes / frac_scale)
                return "is too large";
        bytes += frac_bytes / frac_scale;
        if (bytes == 0)
                return "must be greater than zero";
        *ret = bytes;
        return NULL;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) tolower((unsigned char) c);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

const char *pf_parse_mac(const char *s, pf_mac *ret) {
        static const char *bad = "is not a MAC address: expected six hex pairs like 52:54:00:12:34:56";
        if (strlen(s) != 17)
                return bad;
        char sep = s[2];
        if (sep != ':' && sep != '-')
                return bad;
        pf_mac m;
        for (int i = 0; i < 6; i++) {
                int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
                if (hi < 0 || lo < 0)
                        return bad;
                if (i < 5 && s[3 * i + 2] != sep)
                        return bad;
                m.b[i] = (uint8_t) (hi << 4 | lo);
        }
        if (m.b[0] & 1)
                return "is a multicast address";
        if (pf_mac_is_zero(&m))
                return "is the all-zero address";
        *ret = m;
        return NULL;
}

bool pf_mac_is_zero(const pf_mac *m) {
        static const pf_mac zero;
        return memcmp(m, &zero, sizeof(zero)) == 0;
}

const char *pf_parse_pci(const char *s, pf_pci *ret) {
        static const char *bad = "is not a PCI address: expected DDDD:BB:SS.F in hex, like 0000:00:03.0";
        if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.')
                return bad;
        static const int digits[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11 };
        int v[9];
        for (size_t i = 0; i < 9; i++)
                if ((v[i] = hexval(s[digits[i]])) < 0)
                        return bad;
        pf_pci p = {
                .domain = (uint16_t) (v[0] << 12 | v[1] << 8 | v[2] << 4 | v[3]),
                .bus = (uint8_t) (v[4] << 4 | v[5]),
                .slot = (uint8_t) (v[6] << 4 | v[7]),
                .function = (uint8_t) v[8],
        };
        if (p.slot > 0x1f)
                return "has a slot above 1f";
        if (p.function > 7)
                return "has a function above 7";
        *ret = p;
        return NULL;
}

const char *pf_parse_ip(const char *s, pf_ip *ret) {
        pf_ip ip = { 0 };
        if (strchr(s, ':')) {
                if (inet_pton(AF_INET6, s, ip.addr) != 1)
                        return "is not an IPv6 address";
                ip.family = AF_INET6;
        } else {
                if (inet_pton(AF_INET, s, ip.addr) != 1)
                        return "is not an IP address";
                ip.family = AF_INET;
        }
        *ret = ip;
        return NULL;
}

static unsigned ip_bits(const pf_ip *ip) { return ip->family == AF_INET ? 32 : 128; }

pf_cidr pf_cidr_network(const pf_cidr *c) {
        pf_cidr n = *c;
        for (unsigned bit = c->prefix; bit < ip_bits(&c->ip); bit++)
                n.ip.addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
        return n;
}

const char *pf_parse_cidr(const char *s, bool network, pf_cidr *ret) {
        const char *slash = strchr(s, '/');
        if (!slash)
                return "is not a CIDR: expected ADDRESS/PREFIX, like 10.20.0.0/24";
        char addr[64];
        size_t alen = (size_t) (slash - s);
        if (alen >= sizeof(addr))
                return "is not a CIDR: expected ADDRESS/PREFIX, like 10.20.0.0/24";
        memcpy(addr, s, alen);
        addr[alen] = '\0';
        pf_cidr c = { 0 };
        if (pf_parse_ip(addr, &c.ip))
                return "is not a CIDR: the part before / is not an IP address";
        const char *p = slash + 1;
        unsigned prefix = 0;
        if (!isdigit((unsigned char) *p) || strlen(p) > 3)
                return "is not a CIDR: expected a prefix length after /";
        for (; isdigit((unsigned char) *p); p++)
                prefix = prefix * 10 + (unsigned) (*p - '0');
        if (*p)
                return "is not a CIDR: expected a prefix length after /";
        if (prefix > ip_bits(&c.ip))
                return c.ip.family == AF_INET ? "has a prefix longer than 32" : "has a prefix longer than 128";
        c.prefix = (uint8_t) prefix;
        if (network) {
                pf_cidr n = pf_cidr_network(&c);
                if (memcmp(&n, &c, sizeof(c)) != 0)
                        return "has host bits set";
        }
        *ret = c;
        return NULL;
}

int pf_ip_cmp(const pf_ip *a, const pf_ip *b) {
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        return memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

bool pf_ip_in_cidr(const pf_ip *ip, const pf_cidr *c) {
        if (ip->family != c->ip.family)
                return false;
        pf_cidr x = { .ip = *ip, .prefix = c->prefix };
        x = pf_cidr_network(&x);
        pf_cidr n = pf_cidr_network(c);
        return pf_ip_cmp(&x.ip, &n.ip) == 0;
}

const char *pf_parse_ip_range(const char *s, pf_ip_range *ret) {
        const char *dash = strchr(s, '-');
        pf_ip_range r = { 0 };
        if (!dash) {
                if (pf_parse_ip(s, &r.start))
                        return "is not an IP address or range: expected ADDRESS or START-END";
                r.end = r.start;
        } else {
                char first[64];
                size_t n = (size_t) (dash - s);
                if (n >= sizeof(first))
                        return "is not an IP address or range: expected ADDRESS or START-END";
                memcpy(first, s, n);
                first[n] = '\0';
                if (pf_parse_ip(first, &r.start) || pf_parse_ip(dash + 1, &r.end))
                        return "is not an IP address or range: expected ADDRESS or START-END";
                if (r.start.family != r.end.family)
                        return "mixes IPv4 and IPv6";
                if (pf_ip_cmp(&r.start, &r.end) > 0)
                        return "ends before it starts";
        }
        *ret = r;
        return NULL;
}

const char *pf_check_ifname(const char *s, size_t len) {
        if (len == 0)
                return "is empty";
        if (len > 15)
                return "is longer than 15 bytes, the kernel's limit for interface names";
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return "is not a valid interface name";
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '/' || c == ':' || isspace(c) || c < 0x20 || c == 0x7f)
                        return "is not a valid interface name: it may not contain '/', ':' or whitespace";
        }
        return NULL;
}

const char *pf_check_name(const char *s, size_t len) {
        if (len == 0)
                return "is empty";
        if (len > 63)
                return "is longer than 63 characters";
        if (!isalnum((unsigned char) s[0]))
                return "must start with a letter or digit";
        for (size_t i = 1; i < len; i++) {
                unsigned char c = (unsigned char) s[i];
                if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
                        return "may contain only letters, digits, '_', '.' and '-'";
        }
        return NULL;
}

const char *pf_check_host_or_ip(const char *s, size_t len) {
        pf_ip ip;
        if (!pf_parse_ip(s, &ip))
                return NULL;
        if (len == 0 || len > 253)
                return "is not a host name or IP address";
        size_t label = 0;
        for (size_t i = 0; i <= len; i++) {
                unsigned char c = i < len ? (unsigned char) s[i] : '.';
                if (c == '.') {
                        if (label == 0 || label > 63 || s[i - 1] == '-')
                                return "is not a host name or IP address";
                        label = 0;
                } else if (isalnum(c) || (c == '-' && label > 0)) {
                        label++;
                } else {
                        return "is not a host name or IP address";
                }
        }
        return NULL;
}

const char *pf_ip_format(const pf_ip *ip, char *buf) {
        if (!inet_ntop(ip->family == AF_INET6 ? AF_INET6 : AF_INET, ip->addr, buf, 64))
                strcpy(buf, "?");
        return buf;
}

const char *pf_cidr_format(const pf_cidr *c, char *buf) {
        pf_ip_format(&c->ip, buf);
        snprintf(buf + strlen(buf), 64 - strlen(buf), "/%u", c->prefix);
        return buf;
}

const char *pf_size_format(uint64_t bytes, char *buf) {
        static const char *const binary_units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        size_t u = 0;
        uint64_t exact = bytes;
        while (exact >= 1024 && exact % 1024 == 0 && u + 1 < sizeof(binary_units) / sizeof(binary_units[0])) {
                exact /= 1024;
                u++;
        }
        if (exact < 1024) {
                snprintf(buf, 64, "%" PRIu64 " %s", exact, binary_units[u]);
                return buf;
        }
        double v = (double) bytes;
        for (u = 0; v >= 1023.95 && u + 1 < sizeof(binary_units) / sizeof(binary_units[0]); u++)  /* never "1024.0" */
                v /= 1024;
        snprintf(buf, 64, "%.1f %s", v, binary_units[u]);
        return buf;
}

const char *pf_mac_format(const pf_mac *m, char *buf) {
        snprintf(buf, 64, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
        return buf;
}
