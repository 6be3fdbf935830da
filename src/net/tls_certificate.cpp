// A self-signed certificate for a server that has none: what `uvchatd
// --make-cert` writes, and what the tests serve.
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>

#include "uvchat/net/tls.hpp"

namespace uvchat::net {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using KeyPointer = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertificatePointer = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPointer = std::unique_ptr<BIO, Deleter<BIO_free>>;
using ExtensionPointer = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;

std::string pem_of(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

bool add_extension(X509* certificate, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  ExtensionPointer extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  return extension && X509_add_ext(certificate, extension.get(), -1) == 1;
}

// "DNS:pi.local,IP:127.0.0.1": names, and addresses as addresses.
std::string alternative_names(const std::vector<std::string>& host_names) {
  std::string names;
  for (const std::string& name : host_names) {
    if (name.empty()) continue;
    ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
    ERR_clear_error();
    if (!names.empty()) names += ',';
    names += (address != nullptr ? "IP:" : "DNS:") + name;
    ASN1_OCTET_STRING_free(address);
  }
  return names;
}

bool random_serial(X509* certificate) {
  std::unique_ptr<BIGNUM, Deleter<BN_free>> number(BN_new());
  if (!number || BN_rand(number.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) return false;
  return BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate)) != nullptr;
}

}  // namespace

SelfSigned make_self_signed(const std::vector<std::string>& host_names, int days) {
  SelfSigned made;
  const auto failed = [&made](std::string_view what) {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    made.error = std::string(what);
    if (code != 0) {
      char text[256];
      ERR_error_string_n(code, text, sizeof text);
      made.error += std::string(": ") + text;
    }
    return made;
  };
  if (host_names.empty() || host_names.front().empty()) return failed("no host name");
  KeyPointer key(EVP_EC_gen("P-256"));
  if (!key) return failed("cannot make a key");
  CertificatePointer certificate(X509_new());
  if (!certificate) return failed("cannot make a certificate");
  X509* raw = certificate.get();
  X509_NAME* subject = X509_get_subject_name(raw);
  const std::string& common_name = host_names.front();
  const bool named =
      X509_set_version(raw, 2) == 1 && random_serial(raw) && X509_gmtime_adj(X509_getm_notBefore(raw), -3600) &&
      X509_gmtime_adj(X509_getm_notAfter(raw), static_cast<long>(days) * 24 * 3600) &&
      X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("uvchat"),
                                 -1, -1, 0) == 1 &&
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1 &&
      X509_set_issuer_name(raw, subject) == 1 && X509_set_pubkey(raw, key.get()) == 1;
  if (!named) return failed("cannot fill in the certificate");
  // A leaf that is its own trust anchor: clients that pin it (--tls-ca,
  // or a fingerprint) trust exactly it, and it can sign nothing else.
  const bool extended = add_extension(raw, NID_basic_constraints, "critical,CA:FALSE") &&
                        add_extension(raw, NID_key_usage, "critical,digitalSignature") &&
                        add_extension(raw, NID_ext_key_usage, "serverAuth") &&
                        add_extension(raw, NID_subject_key_identifier, "hash") &&
                        add_extension(raw, NID_subject_alt_name, alternative_names(host_names));
  if (!extended) return failed("cannot add the certificate's extensions");
  if (X509_sign(raw, key.get(), EVP_sha256()) == 0) return failed("cannot sign the certificate");

  BioPointer certificate_bio(BIO_new(BIO_s_mem()));
  BioPointer key_bio(BIO_new(BIO_s_mem()));
  if (!certificate_bio || !key_bio || PEM_write_bio_X509(certificate_bio.get(), raw) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return failed("cannot write the certificate");
  }
  made.certificate_pem = pem_of(certificate_bio.get());
  made.key_pem = pem_of(key_bio.get());
  made.fingerprint = certificate_fingerprint(raw);
  return made;
}

}  // namespace uvchat::net
