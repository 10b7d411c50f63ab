package dnsmsg

import "strconv"

// RcodeString names an rcode the way dig and Wireshark print it, so reports read like the tools admins know;
// unknown codes print as RCODE<n>.
func RcodeString(rc uint16) string {
	switch rc {
	case 0:
		return "NOERROR"
	case 1:
		return "FORMERR"
	case 2:
		return "SERVFAIL"
	case 3:
		return "NXDOMAIN"
	case 4:
		return "NOTIMP"
	case 5:
		return "REFUSED"
	case 6:
		return "YXDOMAIN"
	case 7:
		return "YXRRSET"
	case 8:
		return "NXRRSET"
	case 9:
		return "NOTAUTH"
	case 10:
		return "NOTZONE"
	case 11:
		return "DSOTYPENI"
	case 16:
		return "BADVERS"
	case 23:
		return "BADCOOKIE"
	}
	return "RCODE" + strconv.Itoa(int(rc))
}

// TypeString names a record type by its IANA mnemonic; unknown types print as TYPE<n> (RFC 3597), which
// dig also accepts as input.
func TypeString(t uint16) string {
	if s := typeName(t); s != "" {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func typeName(t uint16) string {
	switch t {
	case 1:
		return "A"
	case 2:
		return "NS"
	case 5:
		return "CNAME"
	case 6:
		return "SOA"
	case 12:
		return "PTR"
	case 13:
		return "HINFO"
	case 15:
		return "MX"
	case 16:
		return "TXT"
	case 28:
		return "AAAA"
	case 33:
		return "SRV"
	case 35:
		return "NAPTR"
	case 39:
		return "DNAME"
	case 41:
		return "OPT"
	case 43:
		return "DS"
	case 46:
		return "RRSIG"
	case 47:
		return "NSEC"
	case 48:
		return "DNSKEY"
	case 50:
		return "NSEC3"
	case 64:
		return "SVCB"
	case 65:
		return "HTTPS"
	case 99:
		return "SPF"
	case 251:
		return "IXFR"
	case 252:
		return "AXFR"
	case 255:
		return "ANY"
	case 257:
		return "CAA"
	}
	return ""
}
