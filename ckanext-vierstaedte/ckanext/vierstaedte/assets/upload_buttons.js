/* The resource form's Upload, Link, Remove and Clear Upload buttons.
 *
 * CKAN 2.12 wires them with onclick attributes, which the portal's Content-Security-Policy
 * forbids; templates/package/snippets/resource_upload_field.html drops those and this module
 * does what they did.
 */
this.ckan.module('vierstaedte-upload-buttons', function ($) {
  'use strict';
  return {
    initialize: function () {
      $('#resource-upload-button').on('click', function () {
        $('#resource-url-upload').prop('checked', true);
        $('#field-resource-upload').trigger('click');
      });
      $('#resource-link-button').on('click', function () {
        $('#resource-url-link').prop('checked', true);
        $('#field-resource-url').trigger('focus');
      });
      $('#vierstaedte-clear-upload').on('click', function () {
        $('#field-clear-upload').prop('checked', true);
        $('#field-resource-upload').trigger('focus');
      });
      this.el.on('click', '[data-vierstaedte-remove]', function () {
        $('#resource-url-none').prop('checked', true);
        $('#' + $(this).data('vierstaedte-focus')).trigger('focus');
        if ($(this).data('vierstaedte-remove') === 'upload') {
          var file = $('#field-resource-upload');
          file.replaceWith(file.val('').clone(true));
        } else {
          $('#field-resource-url').val('');
        }
      });
    }
  };
});
