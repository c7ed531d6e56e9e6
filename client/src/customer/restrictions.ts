// The restrictions a site configured (sent by the server), narrowed to the page the
// customer is on. The pattern syntax is the server's (src/cobrowse/core/restrictions.py):
// a glob over location.pathname where "*" matches any run of characters.

import type { PolicySettings } from "./policy";

export interface RestrictionRule {
  pattern: string;
  mask: string[];
  disable: string[];
}

export interface SiteRestrictions {
  mask_payment_cards: boolean;
  disable_submit: boolean;
  rules: RestrictionRule[];
}

export function patternMatches(pattern: string, path: string): boolean {
  const expression = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${expression}$`).test(path);
}

export function settingsFor(restrictions: SiteRestrictions, path: string): PolicySettings {
  const mask = new Set<string>();
  const disable = new Set<string>();
  for (const rule of restrictions.rules) {
    if (!patternMatches(rule.pattern, path)) continue;
    rule.mask.forEach((selector) => mask.add(selector));
    rule.disable.forEach((selector) => disable.add(selector));
  }
  return {
    maskPaymentCards: restrictions.mask_payment_cards,
    disableSubmit: restrictions.disable_submit,
    mask: [...mask],
    disable: [...disable],
  };
}
