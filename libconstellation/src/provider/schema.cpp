// SPDX-License-Identifier: Apache-2.0
#include "provider/schema.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace constellation::provider {

namespace {

using A = Availability;
using K = FieldKind;

constexpr std::int64_t kNoMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

constexpr FieldDesc Str(std::string_view n, A a = A::Both) { return {n, K::String, nullptr, a}; }
constexpr FieldDesc Bool(std::string_view n, A a = A::Both) { return {n, K::Bool, nullptr, a}; }
constexpr FieldDesc Int(std::string_view n, std::int64_t min = kNoMin, std::int64_t max = kNoMax, A a = A::Both) {
  return {n, K::Int, nullptr, a, false, false, min, max};
}
constexpr FieldDesc Dur(std::string_view n, A a = A::Both) { return {n, K::Duration, nullptr, a}; }
constexpr FieldDesc List(std::string_view n, A a = A::Both) { return {n, K::StringList, nullptr, a}; }
constexpr FieldDesc Map(std::string_view n, A a = A::Both) { return {n, K::StringMap, nullptr, a}; }
constexpr FieldDesc Sub(std::string_view n, const TypeDesc& t, A a = A::Both, bool allow_empty = false) {
  return {n, K::Struct, &t, a, allow_empty};
}
constexpr FieldDesc SubList(std::string_view n, const TypeDesc& t, A a = A::Both) { return {n, K::StructList, &t, a}; }

// --- shared pieces ------------------------------------------------------------------------------

constexpr FieldDesc kDomainFields[] = {Str("main"), List("sans")};
constexpr TypeDesc tDomain{"TLS domain", kDomainFields};

constexpr FieldDesc kCertificateFields[] = {Str("certFile"), Str("keyFile")};
constexpr TypeDesc tCertificate{"certificate", kCertificateFields};

constexpr FieldDesc kSpiffeFields[] = {List("ids"), Str("trustDomain")};
constexpr TypeDesc tSpiffe{"spiffe", kSpiffeFields};

constexpr FieldDesc kEmptyFields[] = {Str("")};  // never matched: the empty name is not a label segment
constexpr TypeDesc tEmpty{"empty section", std::span<const FieldDesc>(kEmptyFields, 0)};

constexpr FieldDesc kServiceRefFields[] = {Str("name"), Int("weight", 0)};
constexpr TypeDesc tServiceRef{"weighted service", kServiceRefFields};

// --- http routers --------------------------------------------------------------------------------

constexpr FieldDesc kRouterTlsFields[] = {Str("options"), Str("certResolver"), SubList("domains", tDomain)};
constexpr TypeDesc tRouterTls{"router TLS", kRouterTlsFields};

constexpr FieldDesc kObservabilityFields[] = {Bool("accessLogs"), Bool("metrics"), Bool("tracing"),
                                              Str("traceVerbosity")};
constexpr TypeDesc tObservability{"router observability", kObservabilityFields};

constexpr FieldDesc kHttpRouterFields[] = {
    List("entryPoints"),
    List("middlewares"),
    Str("service"),
    Str("rule"),
    Str("ruleSyntax", A::V3Only),
    Int("priority", 0),
    Sub("tls", tRouterTls, A::Both, true),
    Sub("observability", tObservability, A::V3Only),
};
constexpr TypeDesc tHttpRouter{"http router", kHttpRouterFields};

// --- http services -------------------------------------------------------------------------------

constexpr FieldDesc kHttpServerFields[] = {
    {"port", K::Int, nullptr, A::Both, false, true, 1, 65535},
    {"scheme", K::String, nullptr, A::Both, false, true},
    {"url", K::String, nullptr, A::Both, false, true},
    Int("weight", 0, kNoMax, A::V3Only),
    Bool("preservePath", A::V3Only),
};
constexpr TypeDesc tHttpServer{"server", kHttpServerFields};

constexpr FieldDesc kCookieFields[] = {Str("name"),         Bool("secure"),
                                       Bool("httpOnly"),    Str("sameSite"),
                                       Int("maxAge"),       Str("path", A::V3Only),
                                       Str("domain", A::V3Only)};
constexpr TypeDesc tCookie{"sticky cookie", kCookieFields};

constexpr FieldDesc kStickyFields[] = {Sub("cookie", tCookie, A::Both, true)};
constexpr TypeDesc tSticky{"sticky", kStickyFields};

constexpr FieldDesc kHealthCheckFields[] = {
    Str("scheme"),         Str("mode", A::V3Only), Str("path"),       Str("method"),
    Int("status", 100, 599, A::V3Only), Int("port", 1, 65535), Dur("interval"), Dur("unhealthyInterval", A::V3Only),
    Dur("timeout"),        Str("hostname"),        Bool("followRedirects"), Map("headers"),
};
constexpr TypeDesc tHealthCheck{"health check", kHealthCheckFields};

constexpr FieldDesc kResponseForwardingFields[] = {Dur("flushInterval")};
constexpr TypeDesc tResponseForwarding{"response forwarding", kResponseForwardingFields};

constexpr FieldDesc kPassiveHealthCheckFields[] = {Dur("failureWindow"), Int("maxFailedAttempts", 1)};
constexpr TypeDesc tPassiveHealthCheck{"passive health check", kPassiveHealthCheckFields};

constexpr FieldDesc kHttpLoadBalancerFields[] = {
    {"server", K::ServerSlot, &tHttpServer},
    Sub("sticky", tSticky),
    Sub("healthCheck", tHealthCheck),
    Bool("passHostHeader"),
    Sub("responseForwarding", tResponseForwarding),
    Str("serversTransport"),
    Str("strategy", A::V3Only),
    Sub("passiveHealthCheck", tPassiveHealthCheck, A::V3Only),
};
constexpr TypeDesc tHttpLoadBalancer{"http load balancer", kHttpLoadBalancerFields};

constexpr FieldDesc kHttpWeightedFields[] = {SubList("services", tServiceRef), Sub("sticky", tSticky),
                                             Sub("healthCheck", tEmpty, A::Both, true)};
constexpr TypeDesc tHttpWeighted{"weighted service", kHttpWeightedFields};

constexpr FieldDesc kMirrorFields[] = {Str("name"), Int("percent", 0, 100)};
constexpr TypeDesc tMirror{"mirror", kMirrorFields};

constexpr FieldDesc kMirroringFields[] = {Str("service"), Bool("mirrorBody", A::V3Only), Int("maxBodySize"),
                                          SubList("mirrors", tMirror), Sub("healthCheck", tEmpty, A::Both, true)};
constexpr TypeDesc tMirroring{"mirroring service", kMirroringFields};

constexpr FieldDesc kFailoverFields[] = {Str("service"), Str("fallback"), Sub("healthCheck", tEmpty, A::Both, true)};
constexpr TypeDesc tFailover{"failover service", kFailoverFields};

constexpr FieldDesc kHttpServiceFields[] = {
    Sub("loadBalancer", tHttpLoadBalancer),
    Sub("weighted", tHttpWeighted),
    Sub("mirroring", tMirroring),
    Sub("failover", tFailover),
};
constexpr TypeDesc tHttpService{"http service", kHttpServiceFields, true};

// --- http middlewares ----------------------------------------------------------------------------

constexpr FieldDesc kAddPrefixFields[] = {Str("prefix")};
constexpr TypeDesc tAddPrefix{"addPrefix middleware", kAddPrefixFields};

constexpr FieldDesc kBasicAuthFields[] = {List("users"), Str("usersFile"), Str("realm"), Bool("removeHeader"),
                                          Str("headerField")};
constexpr TypeDesc tBasicAuth{"basicAuth middleware", kBasicAuthFields};

constexpr FieldDesc kBufferingFields[] = {Int("maxRequestBodyBytes", 0), Int("memRequestBodyBytes", 0),
                                          Int("maxResponseBodyBytes", 0), Int("memResponseBodyBytes", 0),
                                          Str("retryExpression")};
constexpr TypeDesc tBuffering{"buffering middleware", kBufferingFields};

constexpr FieldDesc kChainFields[] = {List("middlewares")};
constexpr TypeDesc tChain{"chain middleware", kChainFields};

constexpr FieldDesc kCircuitBreakerFields[] = {Str("expression"), Dur("checkPeriod"), Dur("fallbackDuration"),
                                               Dur("recoveryDuration"), Int("responseCode", 100, 599, A::V3Only)};
constexpr TypeDesc tCircuitBreaker{"circuitBreaker middleware", kCircuitBreakerFields};

constexpr FieldDesc kCompressFields[] = {List("excludedContentTypes"), List("includedContentTypes", A::V3Only),
                                         Int("minResponseBodyBytes", 0), List("encodings", A::V3Only),
                                         Str("defaultEncoding", A::V3Only)};
constexpr TypeDesc tCompress{"compress middleware", kCompressFields};

constexpr FieldDesc kContentTypeFields[] = {Bool("autoDetect")};
constexpr TypeDesc tContentType{"contentType middleware", kContentTypeFields};

constexpr FieldDesc kDigestAuthFields[] = {List("users"), Str("usersFile"), Bool("removeHeader"), Str("realm"),
                                           Str("headerField")};
constexpr TypeDesc tDigestAuth{"digestAuth middleware", kDigestAuthFields};

constexpr FieldDesc kErrorsFields[] = {List("status"), Str("service"), Str("query")};
constexpr TypeDesc tErrors{"errors middleware", kErrorsFields};

constexpr FieldDesc kClientTlsFields[] = {Str("ca"), Str("cert"), Str("key"), Bool("insecureSkipVerify"),
                                          Bool("caOptional", A::V2Only)};
constexpr TypeDesc tClientTls{"client TLS", kClientTlsFields};

constexpr FieldDesc kForwardAuthFields[] = {
    Str("address"),
    Sub("tls", tClientTls),
    Bool("trustForwardHeader"),
    List("authResponseHeaders"),
    Str("authResponseHeadersRegex"),
    List("authRequestHeaders"),
    List("addAuthCookiesToResponse", A::V3Only),
    Str("headerField", A::V3Only),
    Bool("forwardBody", A::V3Only),
    Int("maxBodySize", kNoMin, kNoMax, A::V3Only),
    Bool("preserveLocationHeader", A::V3Only),
    Bool("preserveRequestMethod", A::V3Only),
};
constexpr TypeDesc tForwardAuth{"forwardAuth middleware", kForwardAuthFields};

constexpr FieldDesc kGrpcWebFields[] = {List("allowOrigins")};
constexpr TypeDesc tGrpcWeb{"grpcWeb middleware", kGrpcWebFields};

constexpr FieldDesc kHeadersFields[] = {
    Map("customRequestHeaders"),
    Map("customResponseHeaders"),
    Bool("accessControlAllowCredentials"),
    List("accessControlAllowHeaders"),
    List("accessControlAllowMethods"),
    List("accessControlAllowOriginList"),
    List("accessControlAllowOriginListRegex"),
    List("accessControlExposeHeaders"),
    Int("accessControlMaxAge"),
    Bool("addVaryHeader"),
    List("allowedHosts"),
    List("hostsProxyHeaders"),
    Map("sslProxyHeaders"),
    Int("stsSeconds", 0),
    Bool("stsIncludeSubdomains"),
    Bool("stsPreload"),
    Bool("forceSTSHeader"),
    Bool("frameDeny"),
    Str("customFrameOptionsValue"),
    Bool("contentTypeNosniff"),
    Bool("browserXssFilter"),
    Str("customBrowserXSSValue"),
    Str("contentSecurityPolicy"),
    Str("contentSecurityPolicyReportOnly", A::V3Only),
    Str("publicKey"),
    Str("referrerPolicy"),
    Str("permissionsPolicy"),
    Bool("isDevelopment"),
    Bool("sslRedirect", A::V2Only),
    Bool("sslTemporaryRedirect", A::V2Only),
    Str("sslHost", A::V2Only),
    Bool("sslForceHost", A::V2Only),
    Str("featurePolicy", A::V2Only),
};
constexpr TypeDesc tHeaders{"headers middleware", kHeadersFields};

constexpr FieldDesc kIpStrategyFields[] = {Int("depth", 0), List("excludedIPs"), Int("ipv6Subnet", 0, 128, A::V3Only)};
constexpr TypeDesc tIpStrategy{"IP strategy", kIpStrategyFields};

constexpr FieldDesc kIpWhiteListFields[] = {List("sourceRange"), Sub("ipStrategy", tIpStrategy)};
constexpr TypeDesc tIpWhiteList{"ipWhiteList middleware", kIpWhiteListFields};

constexpr FieldDesc kIpAllowListFields[] = {List("sourceRange"), Sub("ipStrategy", tIpStrategy),
                                            Int("rejectStatusCode", 100, 599, A::V3Only)};
constexpr TypeDesc tIpAllowList{"ipAllowList middleware", kIpAllowListFields};

constexpr FieldDesc kSourceCriterionFields[] = {Sub("ipStrategy", tIpStrategy), Str("requestHeaderName"),
                                                Bool("requestHost")};
constexpr TypeDesc tSourceCriterion{"source criterion", kSourceCriterionFields};

constexpr FieldDesc kInFlightReqFields[] = {Int("amount", 0), Sub("sourceCriterion", tSourceCriterion)};
constexpr TypeDesc tInFlightReq{"inFlightReq middleware", kInFlightReqFields};

constexpr FieldDesc kCertSubjectFields[] = {Bool("country"),    Bool("province"),     Bool("locality"),
                                            Bool("organization"), Bool("organizationalUnit"), Bool("commonName"),
                                            Bool("serialNumber"), Bool("domainComponent")};
constexpr TypeDesc tCertSubject{"certificate subject", kCertSubjectFields};

constexpr FieldDesc kCertInfoFields[] = {Bool("notAfter"), Bool("notBefore"), Bool("sans"), Bool("serialNumber"),
                                         Sub("subject", tCertSubject), Sub("issuer", tCertSubject)};
constexpr TypeDesc tCertInfo{"certificate info", kCertInfoFields};

constexpr FieldDesc kPassTlsClientCertFields[] = {Bool("pem"), Sub("info", tCertInfo)};
constexpr TypeDesc tPassTlsClientCert{"passTLSClientCert middleware", kPassTlsClientCertFields};

constexpr FieldDesc kRateLimitFields[] = {Int("average", 0), Dur("period"), Int("burst", 0),
                                          Sub("sourceCriterion", tSourceCriterion)};
constexpr TypeDesc tRateLimit{"rateLimit middleware", kRateLimitFields};

constexpr FieldDesc kRedirectRegexFields[] = {Str("regex"), Str("replacement"), Bool("permanent")};
constexpr TypeDesc tRedirectRegex{"redirectRegex middleware", kRedirectRegexFields};

constexpr FieldDesc kRedirectSchemeFields[] = {Str("scheme"), Str("port"), Bool("permanent")};
constexpr TypeDesc tRedirectScheme{"redirectScheme middleware", kRedirectSchemeFields};

constexpr FieldDesc kReplacePathFields[] = {Str("path")};
constexpr TypeDesc tReplacePath{"replacePath middleware", kReplacePathFields};

constexpr FieldDesc kReplacePathRegexFields[] = {Str("regex"), Str("replacement")};
constexpr TypeDesc tReplacePathRegex{"replacePathRegex middleware", kReplacePathRegexFields};

constexpr FieldDesc kRetryFields[] = {Int("attempts", 0), Dur("initialInterval")};
constexpr TypeDesc tRetry{"retry middleware", kRetryFields};

constexpr FieldDesc kStripPrefixFields[] = {List("prefixes"), Bool("forceSlash", A::V2Only)};
constexpr TypeDesc tStripPrefix{"stripPrefix middleware", kStripPrefixFields};

constexpr FieldDesc kStripPrefixRegexFields[] = {List("regex")};
constexpr TypeDesc tStripPrefixRegex{"stripPrefixRegex middleware", kStripPrefixRegexFields};

constexpr FieldDesc kHttpMiddlewareFields[] = {
    Sub("addPrefix", tAddPrefix),
    Sub("basicAuth", tBasicAuth),
    Sub("buffering", tBuffering),
    Sub("chain", tChain),
    Sub("circuitBreaker", tCircuitBreaker),
    Sub("compress", tCompress, A::Both, true),
    Sub("contentType", tContentType, A::Both, true),
    Sub("digestAuth", tDigestAuth),
    Sub("errors", tErrors),
    Sub("forwardAuth", tForwardAuth),
    Sub("grpcWeb", tGrpcWeb, A::V3Only),
    Sub("headers", tHeaders),
    Sub("ipWhiteList", tIpWhiteList),
    Sub("ipAllowList", tIpAllowList),
    Sub("inFlightReq", tInFlightReq),
    Sub("passTLSClientCert", tPassTlsClientCert),
    {"plugin", K::Raw},
    Sub("rateLimit", tRateLimit),
    Sub("redirectRegex", tRedirectRegex),
    Sub("redirectScheme", tRedirectScheme),
    Sub("replacePath", tReplacePath),
    Sub("replacePathRegex", tReplacePathRegex),
    Sub("retry", tRetry),
    Sub("stripPrefix", tStripPrefix),
    Sub("stripPrefixRegex", tStripPrefixRegex),
};
constexpr TypeDesc tHttpMiddleware{"http middleware", kHttpMiddlewareFields, true};

// --- http servers transports ----------------------------------------------------------------------

constexpr FieldDesc kForwardingTimeoutsFields[] = {Dur("dialTimeout"), Dur("responseHeaderTimeout"),
                                                   Dur("idleConnTimeout"), Dur("readIdleTimeout"),
                                                   Dur("pingTimeout")};
constexpr TypeDesc tForwardingTimeouts{"forwarding timeouts", kForwardingTimeoutsFields};

constexpr FieldDesc kHttpServersTransportFields[] = {
    Str("serverName"),
    Bool("insecureSkipVerify"),
    List("rootCAs"),
    SubList("certificates", tCertificate),
    Int("maxIdleConnsPerHost", 0),
    Sub("forwardingTimeouts", tForwardingTimeouts),
    Bool("disableHTTP2"),
    Str("peerCertURI"),
    Sub("spiffe", tSpiffe, A::V3Only),
};
constexpr TypeDesc tHttpServersTransport{"http servers transport", kHttpServersTransportFields};

// --- tcp -----------------------------------------------------------------------------------------

constexpr FieldDesc kTcpRouterTlsFields[] = {Bool("passthrough"), Str("options"), Str("certResolver"),
                                             SubList("domains", tDomain)};
constexpr TypeDesc tTcpRouterTls{"TCP router TLS", kTcpRouterTlsFields};

constexpr FieldDesc kTcpRouterFields[] = {
    List("entryPoints"), List("middlewares"),          Str("service"), Str("rule"), Str("ruleSyntax", A::V3Only),
    Int("priority", 0),  Sub("tls", tTcpRouterTls, A::Both, true),
};
constexpr TypeDesc tTcpRouter{"tcp router", kTcpRouterFields};

constexpr FieldDesc kTcpServerFields[] = {
    {"port", K::Int, nullptr, A::Both, false, true, 1, 65535},
    Bool("tls"),
};
constexpr TypeDesc tTcpServer{"TCP server", kTcpServerFields};

constexpr FieldDesc kProxyProtocolFields[] = {Int("version", 1, 2)};
constexpr TypeDesc tProxyProtocol{"proxy protocol", kProxyProtocolFields};

constexpr FieldDesc kTcpLoadBalancerFields[] = {
    {"server", K::ServerSlot, &tTcpServer},
    Int("terminationDelay"),
    Sub("proxyProtocol", tProxyProtocol),
    Str("serversTransport", A::V3Only),
};
constexpr TypeDesc tTcpLoadBalancer{"TCP load balancer", kTcpLoadBalancerFields};

constexpr FieldDesc kTcpWeightedFields[] = {SubList("services", tServiceRef)};
constexpr TypeDesc tTcpWeighted{"TCP weighted service", kTcpWeightedFields};

constexpr FieldDesc kTcpServiceFields[] = {Sub("loadBalancer", tTcpLoadBalancer), Sub("weighted", tTcpWeighted)};
constexpr TypeDesc tTcpService{"tcp service", kTcpServiceFields, true};

constexpr FieldDesc kInFlightConnFields[] = {Int("amount", 0)};
constexpr TypeDesc tInFlightConn{"inFlightConn middleware", kInFlightConnFields};

constexpr FieldDesc kTcpIpListFields[] = {List("sourceRange")};
constexpr TypeDesc tTcpIpList{"TCP IP list middleware", kTcpIpListFields};

constexpr FieldDesc kTcpMiddlewareFields[] = {Sub("inFlightConn", tInFlightConn), Sub("ipAllowList", tTcpIpList),
                                              Sub("ipWhiteList", tTcpIpList)};
constexpr TypeDesc tTcpMiddleware{"tcp middleware", kTcpMiddlewareFields, true};

constexpr FieldDesc kTcpTransportTlsFields[] = {Str("serverName"),  Bool("insecureSkipVerify"),
                                                List("rootCAs"),     SubList("certificates", tCertificate),
                                                Str("peerCertURI"), Sub("spiffe", tSpiffe)};
constexpr TypeDesc tTcpTransportTls{"TCP transport TLS", kTcpTransportTlsFields};

constexpr FieldDesc kTcpServersTransportFields[] = {Dur("dialKeepAlive"), Dur("dialTimeout"), Dur("terminationDelay"),
                                                    Sub("proxyProtocol", tProxyProtocol),
                                                    Sub("tls", tTcpTransportTls)};
constexpr TypeDesc tTcpServersTransport{"tcp servers transport", kTcpServersTransportFields};

// --- udp -----------------------------------------------------------------------------------------

constexpr FieldDesc kUdpRouterFields[] = {List("entryPoints"), Str("service")};
constexpr TypeDesc tUdpRouter{"udp router", kUdpRouterFields};

constexpr FieldDesc kUdpServerFields[] = {{"port", K::Int, nullptr, A::Both, false, true, 1, 65535}};
constexpr TypeDesc tUdpServer{"UDP server", kUdpServerFields};

constexpr FieldDesc kUdpLoadBalancerFields[] = {{"server", K::ServerSlot, &tUdpServer}};
constexpr TypeDesc tUdpLoadBalancer{"UDP load balancer", kUdpLoadBalancerFields};

constexpr FieldDesc kUdpWeightedFields[] = {SubList("services", tServiceRef)};
constexpr TypeDesc tUdpWeighted{"UDP weighted service", kUdpWeightedFields};

constexpr FieldDesc kUdpServiceFields[] = {Sub("loadBalancer", tUdpLoadBalancer), Sub("weighted", tUdpWeighted)};
constexpr TypeDesc tUdpService{"udp service", kUdpServiceFields, true};

// --- tls -----------------------------------------------------------------------------------------

constexpr FieldDesc kGeneratedCertFields[] = {Str("resolver"), Sub("domain", tDomain)};
constexpr TypeDesc tGeneratedCert{"default generated certificate", kGeneratedCertFields};

constexpr FieldDesc kTlsStoreFields[] = {Sub("defaultCertificate", tCertificate),
                                         Sub("defaultGeneratedCert", tGeneratedCert)};
constexpr TypeDesc tTlsStore{"TLS store", kTlsStoreFields};

constexpr SectionDesc kSections[kSectionCount] = {
    {Section::HttpRouters, "http", "routers", &tHttpRouter, A::Both},
    {Section::HttpServices, "http", "services", &tHttpService, A::Both},
    {Section::HttpMiddlewares, "http", "middlewares", &tHttpMiddleware, A::Both},
    {Section::HttpServersTransports, "http", "serversTransports", &tHttpServersTransport, A::Both},
    {Section::TcpRouters, "tcp", "routers", &tTcpRouter, A::Both},
    {Section::TcpServices, "tcp", "services", &tTcpService, A::Both},
    {Section::TcpMiddlewares, "tcp", "middlewares", &tTcpMiddleware, A::Both},
    {Section::TcpServersTransports, "tcp", "serversTransports", &tTcpServersTransport, A::V3Only},
    {Section::UdpRouters, "udp", "routers", &tUdpRouter, A::Both},
    {Section::UdpServices, "udp", "services", &tUdpService, A::Both},
    {Section::TlsStores, "tls", "stores", &tTlsStore, A::Both},
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

const SectionDesc& section_desc(Section s) {
  auto i = static_cast<std::size_t>(s);
  CST_ASSERT(i < kSectionCount);
  return kSections[i];
}

std::span<const SectionDesc> all_sections() { return kSections; }

std::string section_path(Section s) {
  const auto& d = section_desc(s);
  std::string out(d.protocol);
  out += '.';
  out += d.key;
  return out;
}

const SectionDesc* find_section(std::string_view protocol, std::string_view key) {
  for (const auto& s : kSections) {
    if (iequals(s.protocol, protocol) && iequals(s.key, key)) return &s;
  }
  return nullptr;
}

const FieldDesc* find_field(const TypeDesc& type, std::string_view name) {
  for (const auto& f : type.fields) {
    if (iequals(f.name, name)) return &f;
  }
  return nullptr;
}

std::string_view suggest_field(const TypeDesc& type, std::string_view name) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (const auto& f : type.fields) {
    std::size_t d = edit_distance(f.name, name);
    if (d < best_distance) {
      best_distance = d;
      best = f.name;
    }
  }
  return best;
}

}  // namespace constellation::provider
