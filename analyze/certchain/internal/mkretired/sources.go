package main

// A source is one pinned Mozilla bundle: a Go module version that embeds the NSS server-authentication roots
// of its date. The sha256 of each file read is pinned too, so a different download fails instead of
// changing the output.
type source struct {
	module, version string
	date            string            // the bundle's date: when its roots were taken from NSS
	files           map[string]string // file in the module → its sha256
}

// certifi is github.com/certifi/gocertifi: Python certifi's bundle (mkcert.org, from NSS's certdata.txt) as
// a Go string. These are all the versions the Go module proxy serves. The date is the one the file says it
// was generated on (the version's commit date when it says none: 2018).
var certifi = []source{
	{"github.com/certifi/gocertifi", "v0.0.0-20180118203423-deb3ae2ef261", "2018-01-18", map[string]string{"certifi.go": "ba55e1f2c4d1a77046b1a9a15be8a18b8a01265f7791c36b376d28c3bc10d7e2"}},
	{"github.com/certifi/gocertifi", "v0.0.0-20190105021004-abcd57078448", "2019-01-04", map[string]string{"certifi.go": "a59a6cb02e228fb274d38acf83d31b24951eb0c3c089ece3027132afddad985f"}},
	{"github.com/certifi/gocertifi", "v0.0.0-20191021191039-0944d244cd40", "2019-04-09", map[string]string{"certifi.go": "6a08bb5b08f63618090cb9fd3b4966a592a679352b82062e76a2e336d1b11495"}},
	{"github.com/certifi/gocertifi", "v0.0.0-20200922220541-2c3bb06c6054", "2020-09-22", map[string]string{"certifi.go": "bfaaf438e1fa431b4cc3c0d9ca3795b131a002b2d39884f1deb974b7c37298e1"}},
	{"github.com/certifi/gocertifi", "v0.0.0-20210507211836-431795d63e8d", "2021-05-07", map[string]string{"certifi.go": "7e67364db9b6ccbc4a62c730f48dc6179ad7d0844e97ba87fc5772443de7e99a"}},
}

// debian2023 is the bundle retired.pem was cut from (Debian 12's ca-certificates 20230311): its roots that
// are not in the current bundle are retired.pem's certificates.
const debian2023 = "2023-03-11"

// fallback is golang.org/x/crypto/x509roots/fallback (published since 2023): every version the Go module
// proxy serves, the last one being the bundle the product pins (go.mod). The date is the version's commit
// date. Versions up to 2025 hold PEM in bundle.go; later ones DER in bundle/bundle.der.
var fallback = []source{
	{fallbackModule, "v0.0.0-20240507223354-67b13616a595", "2024-05-07", map[string]string{"bundle.go": "a59679c6f28b92cbbdf61ac525c4f1fa48a6be96111f68c6b5cc2fd457a07e08"}},
	{fallbackModule, "v0.0.0-20240604170348-d4e7c9cb6cb8", "2024-06-04", map[string]string{"bundle.go": "b14e59609f75d2cf93e30c8ae9bd8e1f2c8a0be99fa40e485a822de345daf389"}},
	{fallbackModule, "v0.0.0-20240904212608-c9da6b9a4008", "2024-09-04", map[string]string{"bundle.go": "faccc1fd3128dfab69f4d6a9e1c913f0affca9e6e424498773c9af211d8cca56"}},
	{fallbackModule, "v0.0.0-20250305170421-49bf5b80c810", "2025-03-05", map[string]string{"bundle.go": "9583b205da4ac1a1a921048a8a1b3c3deeb7d07ddc7875c1ed4e06a99aa0b926"}},
	{fallbackModule, "v0.0.0-20250406160420-959f8f3db0fb", "2025-04-06", map[string]string{"bundle.go": "c80122dcb1e55d98a8cc5556a35a7a8a096c8b9ba4894dd0776ee74524ff80c3"}},
	{fallbackModule, "v0.0.0-20260113154411-7d0074ccc6f1", "2026-01-13", map[string]string{"bundle/bundle.go": "e02c53f5c02980f25bc2338b0fde2201a96ab76cc095b4e80acead1fae7bb737", "bundle/bundle.der": "4fc2d2b76a04dae7b931d39ea0864f46de2830bcdd3f4631d63edc6454d42550"}},
	{fallbackModule, "v0.0.0-20260213171211-a408498e5541", "2026-02-13", map[string]string{"bundle/bundle.go": "dcf7f9a432f1c987faca203ca6c6b0c5d8372f10e16278bfc229245e28a024a1", "bundle/bundle.der": "1dc8779af28c615281ea91a3cb1200454bc6ecf7500b13098ce69f18e1756319"}},
	{fallbackModule, "v0.0.0-20260929172509-b39ff6d641ec", "2026-09-29", map[string]string{"bundle/bundle.go": "fed9543dcf8a701f9397d8be713b611e2551dfe72c0ac330443e95c902060e32", "bundle/bundle.der": "4f13b21a3f9a37e5d775d326eaab7c481481b811b89b67326293415997ec7f5c"}},
	{fallbackModule, "v0.0.0-20261020153306-9f2b28d4331a", "2026-10-20", map[string]string{"bundle/bundle.go": "7bd805437e6afd586d151838543f4d23966853970d960baa5e891096409e25c1", "bundle/bundle.der": "4808febc8fea255323f1bc9848e0928b204dd82736d63b551b69d3c37ab95e57"}},
	{fallbackModule, "v0.0.0-20261030153154-30a33513ff6d", "2026-10-30", map[string]string{"bundle/bundle.go": "7bd805437e6afd586d151838543f4d23966853970d960baa5e891096409e25c1", "bundle/bundle.der": "4808febc8fea255323f1bc9848e0928b204dd82736d63b551b69d3c37ab95e57"}},
}

const fallbackModule = "golang.org/x/crypto/x509roots/fallback"
