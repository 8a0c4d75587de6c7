// The little of the DOM that chat_log.js's view and attachments.js use, enough for node's test runner. Markup is never parsed:
// setting innerHTML or outerHTML throws, so a test proves a body went in as text.
"use strict";

class FakeElement {
  constructor(tagName) {
    this.tagName = tagName.toUpperCase();
    this.children = [];
    this.parentNode = null;
    this.className = "";
    this.dataset = {};
    this.attributes = {};
    this.ownText = "";
    this.listeners = {};
    const element = this;
    this.classList = {
      toggle(name, on) {
        const names = element.className.split(/\s+/).filter(Boolean).filter((n) => n !== name);
        if (on) { names.push(name); }
        element.className = names.join(" ");
        return !!on;
      },
      contains(name) { return element.className.split(/\s+/).includes(name); }
    };
  }

  get textContent() { return this.ownText + this.children.map((child) => child.textContent).join(""); }

  set textContent(value) {
    this.children.forEach((child) => { child.parentNode = null; });
    this.children = [];
    this.ownText = String(value);
  }

  set innerHTML(_value) { throw new Error("markup was set as HTML"); }

  set outerHTML(_value) { throw new Error("markup was set as HTML"); }

  setAttribute(name, value) { this.attributes[name] = String(value); }

  getAttribute(name) { return Object.hasOwn(this.attributes, name) ? this.attributes[name] : null; }

  addEventListener(type, listener) { (this.listeners[type] = this.listeners[type] || []).push(listener); }

  // Fire `type` at this element's listeners; true when one of them prevented the default.
  dispatch(type) {
    let prevented = false;
    const event = { type, target: this, preventDefault() { prevented = true; } };
    (this.listeners[type] || []).forEach((listener) => listener(event));
    return prevented;
  }

  insertBefore(node, before) {
    if (node.parentNode) { node.parentNode.removeChild(node); }
    const at = before ? this.children.indexOf(before) : -1;
    if (before && at < 0) { throw new Error("the reference node is not a child"); }
    this.children.splice(at < 0 ? this.children.length : at, 0, node);
    node.parentNode = this;
    return node;
  }

  appendChild(node) { return this.insertBefore(node, null); }

  removeChild(node) {
    const at = this.children.indexOf(node);
    if (at < 0) { throw new Error("not a child"); }
    this.children.splice(at, 1);
    node.parentNode = null;
    return node;
  }

  replaceChildren(...nodes) {
    this.children.slice().forEach((child) => this.removeChild(child));
    nodes.forEach((node) => this.appendChild(node));
  }

  // Every element below this one, depth first.
  descendants() {
    return this.children.flatMap((child) => [child, ...child.descendants()]);
  }

  find(className) {
    return this.descendants().find((node) => node.classList.contains(className)) || null;
  }
}

function createDocument() {
  return { createElement: (tagName) => new FakeElement(tagName) };
}

module.exports = { createDocument, FakeElement };
