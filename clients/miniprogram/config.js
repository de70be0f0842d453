// Where the commission's Jiandu serves its public API. A mini-program may call
// only the request domains registered for it in the WeChat console, over
// HTTPS: register this one there.
export const BASE_URL = "https://jiandu.example.gov.cn";
