const leftPad = require("left-pad");
console.log(leftPad("ok", 4));
