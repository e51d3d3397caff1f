// The Salesforce REST API dialect of the fake server, shaped after /work/shared/specs/API-FACTS.md (Salesforce
// section) and Salesforce's REST API and SOQL guides: bearer auth, SOQL queries paged by nextRecordsUrl, sObject
// Collections upsert by an external id and delete, describe, the org's daily request allocation, and Salesforce's
// error array [{"message","errorCode"}] (per item: {"statusCode","message","fields"}).
//
//   GET    /services/data/vXX.X/query?q=SOQL        (header Sforce-Query-Options: batchSize=N, 200..2000)
//          -> 200 {"totalSize":N,"done":false,"nextRecordsUrl":"/services/data/vXX.X/query/01g...-2000",
//                  "records":[{"attributes":{"type":"Contact","url":".../sobjects/Contact/003..."},"Id":..,...}]}
//   GET    /services/data/vXX.X/query/{locator}-{offset}  -> the next page of that query's snapshot
//   PATCH  /services/data/vXX.X/composite/sobjects/{Object}/{ExternalIdField}
//          {"allOrNone":false,"records":[{"attributes":{"type":"Contact"},"External_Id__c":"k1",...}]}  (<= 200)
//          -> 200 [{"id":"003...","success":true,"errors":[],"created":true},
//                  {"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":..,"fields":[..]}]}]
//   DELETE /services/data/vXX.X/composite/sobjects?ids=003..,00Q..&allOrNone=false  (<= 200 ids)
//          -> 200 [{"id":..,"success":true,"errors":[]}, {"id":..,"success":false,"errors":[ENTITY_IS_DELETED]}]
//   GET    /services/data/vXX.X/sobjects/{Object}/describe -> {"name","keyPrefix","fields":[{"name","type",
//          "externalId","nillable","createable","updateable"}]}
//
// Objects: Contact (ids 003...), Lead (00Q...), Account (001...) with their common standard fields, the system
// fields Id, IsDeleted, CreatedDate, LastModifiedDate, SystemModstamp, and the text External ID field
// External_Id__c plus any custom text fields the options add. Every write stamps its records with one
// SystemModstamp (so a collection request makes ties), updates bump it even when no value changed, and deletes mark
// records IsDeleted (queries leave them out). Ids are 15 base-62 characters plus Salesforce's case-safe suffix.
//
// Errors: 401 INVALID_SESSION_ID for a wrong token; 403 REQUEST_LIMIT_EXCEEDED ("TotalRequests Limit exceeded.")
// past the daily allocation, which every response reports as Sforce-Limit-Info: api-usage=used/limit; 400
// MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE for queries; a whole-request 400 (JSON_PARSER_ERROR for a value of
// the wrong type, INVALID_FIELD for an unknown field, EXCEEDED_ID_LIMIT over 200 records) for collections; per-item
// REQUIRED_FIELD_MISSING, INVALID_EMAIL_ADDRESS, INVALID_FIELD_FOR_INSERT_UPDATE (a system field),
// DUPLICATE_EXTERNAL_ID (one key twice in a request) and, under a partial_batch fault, UNABLE_TO_LOCK_ROW (also
// per id of a delete); 404
// NOT_FOUND for an unknown object, external id field or API version.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fake_server/fake_server.hpp"

namespace conflux::test::fake {

struct SalesforceApiOptions {
  std::string token;                 // the bearer token every request must carry; "" = no auth
  int min_version = 31;              // API versions served: v31.0 .. v62.0
  int max_version = 62;
  size_t query_batch_size = 2000;    // records per query page at most (Salesforce: the batchSize asked, default 2000)
  size_t max_collection = 200;       // records per upsert, ids per delete
  int64_t daily_limit = 0;           // requests per org per 24 h; 0 = unlimited (reported as 100000)
  std::map<std::string, std::vector<std::string>> custom_fields;  // object -> extra custom text fields
  // {"query_batch_size":..,"max_collection":..,"daily_limit":..,"min_version":..,"max_version":..,
  //  "custom_fields":{"Contact":["Segment__c"]}}
  static SalesforceApiOptions from_json(const nlohmann::json& j, std::string token);
};

// Registers the routes. Records live in the server's RecordStore under the object's name ("Contact", ...):
// properties hold the writable fields (typed JSON) and IsDeleted; created_ms / updated_ms are CreatedDate and
// SystemModstamp. Data files may load records there as usual.
void install_salesforce_api(FakeServer& server, SalesforceApiOptions options = {});

// Salesforce's 18-character case-safe form of a 15-character id.
std::string salesforce_id18(const std::string& id15);

}  // namespace conflux::test::fake
