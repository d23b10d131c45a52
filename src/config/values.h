/* values.h: parsing and checking of scalar values (pure functions, no diagnostics).
 * Each parser returns NULL on success, or the reason the text is not a valid value, worded to
 * follow the quoted value in a message: `macAddress "01:..." is a multicast address`. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

const char *pf_parse_quantity(const char *s, uint64_t *ret);
const char *pf_parse_mac(const char *s, pf_mac *ret);
const char *pf_parse_pci(const char *s, pf_pci *ret);
const char *pf_parse_ip(const char *s, pf_ip *ret);
/* pf_parse_cidr: "ADDR/PREFIX". With `network`, host bits must be clear. */
const char *pf_parse_cidr(const char *s, bool network, pf_cidr *ret);
/* pf_parse_ip_range: "ADDR" or "ADDR-ADDR" of one family, start <= end. */
const char *pf_parse_ip_range(const char *s, pf_ip_range *ret);

const char *pf_check_ifname(const char *s, size_t len);
const char *pf_check_name(const char *s, size_t len);
/* pf_check_hostname: a DNS name (RFC 1123 labels) or an IP address. */
const char *pf_check_host_or_ip(const char *s, size_t len);

int pf_ip_cmp(const pf_ip *a, const pf_ip *b);
bool pf_ip_in_cidr(const pf_ip *ip, const pf_cidr *c);
/* pf_cidr_network: c with host bits cleared. */
pf_cidr pf_cidr_network(const pf_cidr *c);
bool pf_mac_is_zero(const pf_mac *m);
/* Formatting, for messages and tests. buf must hold 64 bytes. */
const char *pf_ip_format(const pf_ip *ip, char *buf);
const char *pf_cidr_format(const pf_cidr *c, char *buf);
const char *pf_mac_format(const pf_mac *m, char *buf);
/* Binary units, exact when exact ("20 GiB", "768 MiB"), else one decimal ("1.5 KiB"). */
const char *pf_size_format(uint64_t bytes, char *buf);
