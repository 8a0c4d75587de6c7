"""What every domain's services share: links for mails, socket rooms, spreadsheet files, money as people write it."""
