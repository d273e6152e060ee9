/* The API token page's behaviour without inline script (the Content-Security-Policy forbids it).
 *
 * CKAN 2.12 does this in onchange and hx-on attributes (templates/user/snippets/ drops them): the
 * revoke button is enabled while a token is ticked and disabled again once the tokens are revoked;
 * a new token is scrolled into view.
 */
(function () {
  'use strict';
  function revokeButton() {
    return document.getElementById('revoke-tokens-button');
  }
  document.addEventListener('change', function (event) {
    if (event.target.name === 'token' && revokeButton()) {
      revokeButton().disabled = !document.querySelector('[name=token]:checked');
    }
  });
  document.addEventListener('htmx:afterRequest', function (event) {
    if (event.target.id === 'vierstaedte-revoke-tokens' && revokeButton()) {
      revokeButton().disabled = true;
    }
  });
  document.addEventListener('htmx:afterSettle', function () {
    var created = document.querySelector('#api-tokens-table tbody tr:first-child td[colspan]');
    if (created) {
      created.scrollIntoView(false);
    }
  });
}());
