/* consent management stub */
window.__tcfapi=window.__tcfapi||function(){};
