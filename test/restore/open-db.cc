// open-db: opens a RocksDB database the way a node would, for snapshot-verify's restore tests.
// Our own code; links the system librocksdb (Debian 7.8.3). Built by the tests with g++.
//
// Usage: open-db DIR
//   1. LoadLatestOptions(DIR): the OPTIONS file must parse and list the column families;
//   2. DB::Open read-write with exactly those families (paranoid_checks on), VerifyChecksum();
//   3. prints every family in the OPTIONS order as "cf <hex name> <count>", then its entries
//      "<hex key> <hex value>" from a full iteration;
//   4. writes one key to each family, flushes, closes, and reopens read-only to iterate again
//      (the count must be one more): the restored database is a live database, not a read-only one.
// Exits 0 on success; on any failure prints "error: <status>" on stderr and exits 1.
#include <cstdio>
#include <string>
#include <vector>

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>

using namespace ROCKSDB_NAMESPACE;

static void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

static std::string Hex(const Slice& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

static size_t Count(DB* db, ColumnFamilyHandle* h, bool print) {
  ReadOptions ro;
  ro.verify_checksums = true;
  std::unique_ptr<Iterator> it(db->NewIterator(ro, h));
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (print) std::printf("%s %s\n", Hex(it->key()).c_str(), Hex(it->value()).c_str());
    n++;
  }
  Check(it->status(), "iterate");
  return n;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: open-db DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  ConfigOptions config;
  DBOptions db_options;
  std::vector<ColumnFamilyDescriptor> cfs;
  Check(LoadLatestOptions(config, dir, &db_options, &cfs), "LoadLatestOptions");
  db_options.paranoid_checks = true;
  db_options.create_if_missing = false;
  std::vector<ColumnFamilyHandle*> handles;
  DB* db = nullptr;
  Check(DB::Open(Options(db_options, ColumnFamilyOptions()), dir, cfs, &handles, &db), "open read-write");
  Check(db->VerifyChecksum(), "VerifyChecksum");
  std::vector<size_t> counts;
  for (size_t i = 0; i < handles.size(); i++) {
    // Count first, then print, so that the count line precedes the entries.
    size_t n = Count(db, handles[i], false);
    counts.push_back(n);
    std::printf("cf %s %zu\n", Hex(cfs[i].name).c_str(), n);
    Count(db, handles[i], true);
  }
  for (auto* h : handles) Check(db->Put(WriteOptions(), h, "\xff\xff-open-db-probe", "1"), "put");
  Check(db->Flush(FlushOptions(), handles), "flush");
  for (auto* h : handles) Check(db->DestroyColumnFamilyHandle(h), "destroy handle");
  Check(db->Close(), "close");
  delete db;
  handles.clear();
  Check(DB::OpenForReadOnly(Options(db_options, ColumnFamilyOptions()), dir, cfs, &handles, &db), "reopen read-only");
  for (size_t i = 0; i < handles.size(); i++) {
    if (Count(db, handles[i], false) != counts[i] + 1) {
      std::fprintf(stderr, "error: family %zu has %zu entries after one put, expected %zu\n", i, Count(db, handles[i], false), counts[i] + 1);
      return 1;
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  delete db;
  return 0;
}
