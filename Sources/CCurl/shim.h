#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call: one typed
// wrapper per argument kind.
static inline CURLcode residue_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode residue_curl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode residue_curl_setopt_pointer(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode residue_curl_setopt_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }

typedef size_t (*residue_curl_data_callback)(char *data, size_t size, size_t count, void *client);
static inline CURLcode residue_curl_set_write(CURL *c, residue_curl_data_callback f, void *client) {
    CURLcode r = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, f);
    return r != CURLE_OK ? r : curl_easy_setopt(c, CURLOPT_WRITEDATA, client);
}
static inline CURLcode residue_curl_set_header(CURL *c, residue_curl_data_callback f, void *client) {
    CURLcode r = curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, f);
    return r != CURLE_OK ? r : curl_easy_setopt(c, CURLOPT_HEADERDATA, client);
}
static inline long residue_curl_response_code(CURL *c) {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code;
}
static inline size_t residue_curl_write_pause(void) { return CURL_WRITEFUNC_PAUSE; }
