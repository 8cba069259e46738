#include "provision/steps/desired.h"

#include "certs/file_io.h"
#include "provision/pki_layout.h"
#include "provision/render.h"
#include "provision/ssh/upload.h"

namespace provision::steps {

std::string binary_name(Flavor flavor) {
  return flavor == Flavor::kEtcd ? "etcd" : "kvserver";
}

std::string unit_path(const NodeSpec& node) {
  return "/etc/systemd/system/" + node.server.unit;
}

std::string remote_binary_path(const NodeSpec& node) {
  return node.server.bin_dir + "/" + binary_name(node.server.flavor);
}

std::string binary_manifest_path(const NodeSpec& node) {
  return node.server.config_dir + "/.binary.sha256";
}

namespace {

const char* const kConfigFiles[] = {"ca.crt", "server.crt", "server.key", "peer.crt", "peer.key"};

DesiredFile make_file(std::string label, std::string remote_path,
                      std::shared_ptr<const std::string> bytes, int mode) {
  DesiredFile f;
  f.label = std::move(label);
  f.remote_path = std::move(remote_path);
  f.sha256 = provision::ssh::sha256_hex(*bytes);
  f.bytes = std::move(bytes);
  f.mode = mode;
  return f;
}

certs::Result<std::shared_ptr<const std::string>> read_shared(const std::string& path,
                                                              const std::string& hint) {
  auto r = certs::read_file(path);
  if (!r) return certs::Error(r.error().message + " - " + hint);
  return std::make_shared<const std::string>(std::move(*r));
}

}  // namespace

std::vector<std::string> managed_paths(const NodeSpec& node) {
  std::vector<std::string> out = {remote_binary_path(node)};
  for (const char* f : kConfigFiles)
    out.push_back(node.server.config_dir + "/" + f);
  out.push_back(unit_path(node));
  return out;
}

certs::Result<Binaries> load_binaries(const Inventory& inv) {
  Binaries out;
  for (const auto& node : inv.nodes) {
    if (out.count(node.server.binary) != 0) continue;
    auto b = read_shared(node.server.binary, "server.binary must be the " +
                                                 flavor_name(node.server.flavor) +
                                                 " binary to copy to the nodes");
    if (!b) return certs::Error(inv.where(node) + ": " + b.error().message);
    out[node.server.binary] = LoadedBinary{*b, provision::ssh::sha256_hex(**b)};
  }
  return out;
}

certs::Result<std::vector<NodeInputs>> load_desired(const Inventory& inv, const std::string& token,
                                                    bool allow_missing_certs,
                                                    const Binaries* binaries) {
  Binaries own;
  if (binaries == nullptr) {
    auto loaded = load_binaries(inv);
    if (!loaded) return loaded.error();
    own = std::move(*loaded);
    binaries = &own;
  }
  const std::string gen_hint = "run `provision certs generate -i " + inv.path + "`";
  // A PKI file: its bytes, or (allow_missing_certs) a placeholder that matches nothing.
  auto pki_file = [&](const std::string& label, const std::string& remote, const std::string& local,
                      int mode) -> certs::Result<DesiredFile> {
    if (allow_missing_certs && !certs::file_exists(local)) {
      DesiredFile f;
      f.label = label;
      f.remote_path = remote;
      f.bytes = std::make_shared<const std::string>();
      f.sha256 = kNotGenerated;
      f.mode = mode;
      return f;
    }
    auto bytes = read_shared(local, gen_hint);
    if (!bytes) return bytes.error();
    return make_file(label, remote, *bytes, mode);
  };
  std::vector<NodeInputs> out;
  for (const auto& node : inv.nodes) {
    NodeInputs in;
    in.node = &node;
    const LoadedBinary& bin = binaries->at(node.server.binary);
    DesiredFile b;
    b.label = "binary";
    b.remote_path = remote_binary_path(node);
    b.bytes = bin.bytes;
    b.sha256 = bin.sha256;
    b.mode = 0755;
    in.fixed.push_back(std::move(b));
    auto ca = pki_file("ca.crt", node.server.config_dir + "/ca.crt", ca_cert_path(inv), 0644);
    if (!ca) return ca.error();
    in.fixed.push_back(std::move(*ca));
    for (const char* kind : {"server", "peer"}) {
      for (const char* ext : {"crt", "key"}) {
        const std::string name = std::string(kind) + "." + ext;
        auto f = pki_file(name, node.server.config_dir + "/" + name,
                          inv.pki.dir + "/" + node.name + "/" + name,
                          std::string(ext) == "key" ? 0600 : 0644);
        if (!f) return certs::Error(inv.where(node) + ": " + f.error().message);
        in.fixed.push_back(std::move(*f));
      }
    }
    for (ClusterState st : {ClusterState::kNew, ClusterState::kExisting}) {
      auto unit = render_unit(inv, node, token, st);
      if (!unit) return certs::Error(inv.where(node) + ": " + unit.error().message);
      DesiredFile f = make_file("unit", unit_path(node),
                                std::make_shared<const std::string>(std::move(*unit)), 0644);
      (st == ClusterState::kNew ? in.unit_new : in.unit_existing) = std::move(f);
    }
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace provision::steps
